"""`python -m followthrough`: see followthrough.cli."""

from __future__ import annotations

import sys

from followthrough.cli import main

sys.exit(main())
