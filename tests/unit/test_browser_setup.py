"""A missing browser skips the browser tests on a developer's machine and fails them under CI=true."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import browser


def test_missing_chromium_fails_under_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required in CI"):
        browser.chromium_or_skip()


def test_missing_chromium_skips_elsewhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="make browser"):
        browser.chromium_or_skip()


def test_an_installed_chromium_is_returned(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    binary = tmp_path / "chromium"
    binary.write_text("")
    monkeypatch.setattr(browser, "CHROMIUM", binary)
    monkeypatch.setenv("CI", "true")
    assert browser.chromium_or_skip() == binary
