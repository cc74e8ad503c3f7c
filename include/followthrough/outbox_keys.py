"""The idempotency keys of a finding episode's ticket entries, shared by the planner and the outbox.

The planner (escalation.py) gives a ticket's create and reopen entries these keys; the outbox
(store/outbox.py) looks them up to hold a Slack message until its ticket exists. One definition
keeps the two from drifting apart. No imports: it sits below both.
"""

from __future__ import annotations

from typing import Any


def ticket_entry_keys(fingerprint: Any, episode: Any) -> tuple[Any, Any]:
    """(create key, reopen key) of a finding episode's ticket entries.

    ``create_ticket`` is ``<fingerprint>:<episode>:jira:create``; a finding that came back soon
    reopens the previous ticket for the new episode with ``<fingerprint>:<episode>:jira:reopen``.
    `episode` is text (or a SQL expression cast to text): works on values and on SQL expressions alike.
    """
    prefix = fingerprint + ":" + episode
    return prefix + ":jira:create", prefix + ":jira:reopen"
