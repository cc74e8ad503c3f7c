"""Exceptions for a broken pipeline. A failed check is a finding, never an exception."""

from __future__ import annotations


class FollowthroughError(Exception):
    """Base class: the pipeline cannot go on."""


class NotRetryableError(FollowthroughError):
    """Retrying cannot help until someone fixes the configuration or the data location.

    The DAGs' retry policy fails a task at once on these instead of waiting out its retries.
    """


class PolicyError(NotRetryableError):
    """The policy file is missing, unreadable or invalid."""


class SourceError(NotRetryableError):
    """A configured source cannot be read at all (missing folder, unreadable file)."""


class StoreError(FollowthroughError):
    """The store is unreachable or holds something it should not."""


class ConnectionMissing(NotRetryableError):
    """A live source or gateway needs an Airflow Connection that is not defined."""
