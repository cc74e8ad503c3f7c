"""Extractors: each turns one configured source into raw canonical frames (all strings)."""

from __future__ import annotations
