"""JQL building blocks and the labels and markers that make Jira writes findable (so never repeated)."""

from __future__ import annotations

import re

# search/jql: most issues per page when fields are requested (Jira's documented cap for
# issues with fields is lower than for ids; 100 is the commonly reported value), and for
# id/key-only searches (the spec's 5000).
MAX_PAGE_WITH_FIELDS = 100
MAX_PAGE_IDS_ONLY = 5000

def jql_quote(value: str) -> str:
    """A JQL string literal: double quotes around the value, with quotes, backslashes and
    control characters escaped, so the value can never end the literal early and add
    operators (``x" OR project = SECRET OR "`` stays one value)."""
    escaped = (
        str(value)
        .replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def jql_field(field_id: str) -> str:
    """How a field id is named in JQL: ``customfield_10020`` -> ``cf[10020]``."""
    match = re.fullmatch(r"customfield_(\d+)", field_id)
    if match:
        return f"cf[{match.group(1)}]"
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", field_id):
        raise ValueError(f"not a Jira field id: {field_id!r}")
    return field_id


def idempotency_label(fingerprint: str, episode: int) -> str:
    """The label that marks the ticket of one finding episode: ``ft-<16 hex>-e<episode>``."""
    head = str(fingerprint).strip().lower()[:16]
    if not re.fullmatch(r"[0-9a-f]{16}", head):
        raise ValueError(f"fingerprint must start with 16 hex digits, got {fingerprint!r}")
    return f"ft-{head}-e{int(episode)}"


def comment_marker(idempotency_key: str, note: str | None = None) -> str:
    """The trailing marker that makes a comment findable (and so never posted twice).

    A second comment of the same entry carries its own marker, ``[followthrough:<key>#<note>]``: under
    the entry's marker it would pass for the entry's comment, and whichever came second would never be
    posted. Neither marker is a substring of the other (the entry's ends in ``]`` right after the key).
    """
    return f"[followthrough:{idempotency_key}#{note}]" if note else f"[followthrough:{idempotency_key}]"

