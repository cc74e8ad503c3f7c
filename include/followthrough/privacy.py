"""What may be kept where: the texts of private and confidential findings stay in the outbox.

A blame quote (PM-BLAME, private: told to the postmortem owner alone) and a confidential
incident's title may be *sent*, to the person they concern, but never written where others
read: `actions.csv`, the audit trail's payloads, the report and the digests. There they are
replaced by a reference (the outbox entry's idempotency key, next to it) and a SHA-256 of the
text, which proves what was sent without showing it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

TEXT_FIELDS = ("text", "description", "comment")
SENSITIVE = "sensitive"  # the payload flag escalation sets on a private or confidential finding's actions
PRIVATE_REASON = "(private: told to the postmortem owner only)"


def text_digest(text: object) -> str:
    return hashlib.sha256(str(text).encode("utf-8")).hexdigest()


def redact_payload(payload: Mapping[str, Any] | None) -> dict[str, Any]:
    """A payload as others may read it: a sensitive one's texts become their hashes."""
    out = dict(payload or {})
    if not out.get(SENSITIVE):
        return out
    for field in TEXT_FIELDS:
        if field in out and out[field] not in (None, ""):
            out[f"{field}_sha256"] = text_digest(out.pop(field))
            out[field] = "(withheld: private or confidential; the outbox entry has it)"
    return out


def redact_finding_event(payload: Mapping[str, Any], private: bool) -> dict[str, Any]:
    """A finding's audit payload: a private finding's reason (the quote) and evidence become a hash."""
    out = dict(payload)
    if private and out.get("reason"):
        out["reason_sha256"] = text_digest(out["reason"])
        out["reason"] = PRIVATE_REASON
        out["evidence"] = {}
    return out
