"""Followthrough: enforce follow-up SLAs after production incidents.

The package is imported the same way by the Airflow scheduler, the workers, the tests and
the CLI (`python -m followthrough`). Importing it is cheap: heavy libraries (pandas, Great
Expectations, SQLAlchemy) are imported by the modules that need them.
"""

from __future__ import annotations

__version__ = "0.1.0"
