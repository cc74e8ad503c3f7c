"""The bundled demo data matches its documented plants (scripts/check_demo_data.py re-derives them)."""

from __future__ import annotations

import subprocess
import sys

from tests.pipeline import ROOT


def test_demo_data_is_reproducible_and_matches_its_expected_answers() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_demo_data.py")], capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
