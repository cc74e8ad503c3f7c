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


class RunLocked(FollowthroughError):
    """Another enforcement run holds the store's run lock: this one refuses to start (and is retried)."""


class ConnectionMissing(NotRetryableError):
    """A live source or gateway needs an Airflow Connection that is not defined."""


class StagingMissing(FollowthroughError):
    """A task's staged input (written by an earlier task of the run) is not where it should be.

    Never read as "no rows": empty inputs would resolve every finding. Retried, since object
    storage may lag; a staging base that workers do not share fails every retry the same way.
    """
