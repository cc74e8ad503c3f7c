"""Exceptions for a broken pipeline. A failed check is a finding, never an exception."""

from __future__ import annotations


class FollowthroughError(Exception):
    """Base class: the pipeline cannot go on."""


class PolicyError(FollowthroughError):
    """The policy file is missing, unreadable or invalid."""


class SourceError(FollowthroughError):
    """A configured source cannot be read at all (missing folder, unreadable file)."""


class StoreError(FollowthroughError):
    """The store is unreachable or holds something it should not."""
