"""The Jira ticket gateway: delivers the outbox's Jira actions exactly once per idempotency key.

It implements :class:`followthrough.gateways.delivery.Delivery`: the transport's errors are
classified here, once, into the delivery taxonomy (deferred, uncertain, permanent,
configuration). It never imports the outbox.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from followthrough.gateways.delivery import (
    DeliveryConfiguration,
    DeliveryDeferred,
    DeliveryError,
    DeliveryPermanent,
    DeliveryUncertain,
    Receipt,
)
from followthrough.gateways.jira.adf import adf_to_text, text_to_adf
from followthrough.gateways.jira.jql import comment_marker, idempotency_label, jql_quote
from followthrough.gateways.jira.transport import (
    JiraAmbiguousError,
    JiraApiError,
    JiraClient,
    JiraError,
    JiraRetriesExhausted,
)

log = logging.getLogger(__name__)

SUMMARY_MAX = 255
DESCRIPTION_MAX = 32_000  # Jira's limit is 32,767 characters of rendered text; keep a margin
# the note of a reassignment whose new owner has no Jira user: a comment of its own beside the entry's
NO_JIRA_USER = "no-jira-user"

def classify_jira_error(exc: JiraError) -> DeliveryError:
    """The delivery category of a transport error (the one place Jira errors are classified).

    401 (credentials rejected) is configuration; any other 4xx is permanent for the entry; a
    write that may have been applied is uncertain; the retry budget spent, 5xx, 429 and lost
    connections are deferred.
    """
    message = str(exc)
    if isinstance(exc, JiraApiError):
        if exc.status == 401:
            return DeliveryConfiguration(f"Jira rejected the credentials: {message}")
        return DeliveryPermanent(message)
    if isinstance(exc, JiraAmbiguousError):
        return DeliveryUncertain(message)
    if isinstance(exc, JiraRetriesExhausted):
        return DeliveryDeferred(message, retry_after=getattr(exc, "retry_after", None))
    return DeliveryDeferred(message)


DEFAULT_PRIORITY_NAMES = {"P1": "Highest", "P2": "High", "P3": "Medium", "P4": "Low"}


class JiraTicketGateway:
    """Delivers the outbox's Jira actions: create_ticket, comment_ticket, resolve_ticket.

    **Create** is idempotent per finding episode. The ticket carries the label
    ``ft-<first 16 hex of the fingerprint>-e<episode>``. Before creating, the gateway reuses
    (a) the ticket the store recorded for this fingerprint and episode
    (``ticket_key_for``: a previous create's external_ref; search lag cannot hide it), then
    (b) a ticket found by searching for the label. When the create itself fails ambiguously
    (timeout, reset, 5xx after sending) it is never sent again: the gateway searches for the
    label with backoff for ``search_lag_seconds`` and returns the ticket if it appears, or
    raises :class:`DeliveryUncertain` (the entry stays pending; the next run checks again).
    An entry delivered as uncertain (``entry["uncertain"]``: an earlier attempt failed
    ambiguously, or its dispatcher died holding the claim) is looked for the same way, with
    backoff for ``search_lag_seconds``, before it is created: one search may not show a ticket
    created seconds ago.
    A reopened finding is a new episode and so gets a new ticket, whose description names
    the previous episode's ticket when the store knows it; the old ticket stays closed.

    **Comment** carries ``[followthrough:<idempotency key>]`` as its last line and is skipped
    when a comment with that marker exists (comments are read live, not through search). An
    entry's second comment (a reassignment's request to reassign by hand, when the new owner has
    no Jira user) carries ``[followthrough:<idempotency key>#<note>]``, so neither passes for the other.

    **Resolve** moves the ticket to Done (through intermediate statuses when the workflow
    needs it) unless its status is already in the done category, then adds the payload's
    comment once.

    The assignee is looked up by email (``payload["assignee_email"]``, ``payload["email"]``
    or an email in ``payload["assignee"]``); a person Jira does not know leaves the ticket
    unassigned and the description says so. Tickets go to ``project_key`` (the policy's
    ``dispatch.jira_project``); ``payload["project"]`` is not consulted. Optional payload
    keys: ``priority`` (P1..P4 or a Jira priority name), ``due_date`` (YYYY-MM-DD).
    """

    ACTIONS = ("create_ticket", "comment_ticket", "resolve_ticket", "update_ticket", "reopen_ticket")

    def __init__(
        self,
        client: JiraClient,
        project_key: str,
        issue_type: str = "Task",
        *,
        ticket_key_for: Callable[[str, int], str | None],
        search_lag_seconds: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        resolve_transition: str | None = None,
        reopen_transition: str | None = None,
        priority_names: Mapping[str, str] | None = None,
        max_transition_hops: int = 4,
    ) -> None:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]+", project_key):
            raise ValueError(f"invalid Jira project key {project_key!r}")
        self.client = client
        self.project_key = project_key
        self.issue_type = issue_type
        self.ticket_key_for = ticket_key_for
        self.search_lag_seconds = float(search_lag_seconds)
        self.sleep = sleep
        self.clock = clock
        self.resolve_transition = resolve_transition
        self.reopen_transition = reopen_transition
        self.priority_names = dict(DEFAULT_PRIORITY_NAMES if priority_names is None else priority_names)
        self.max_transition_hops = max_transition_hops

    def deliver(self, entry: Mapping[str, Any]) -> Receipt:
        """Deliver one Jira action; the transport's errors leave as the delivery taxonomy's."""
        action = entry.get("action")
        handlers: dict[str, Callable[[Mapping[str, Any]], str]] = {
            "create_ticket": self._create, "comment_ticket": self._comment, "resolve_ticket": self._resolve,
            "update_ticket": self._update, "reopen_ticket": self._reopen,
        }
        handler = handlers.get(str(action))
        if handler is None:
            raise DeliveryPermanent(f"JiraTicketGateway cannot deliver action {action!r} "
                                    f"(entry {entry.get('idempotency_key')}); it handles {', '.join(self.ACTIONS)}")
        try:
            key = handler(entry)
        except DeliveryError:
            raise
        except JiraError as exc:
            raise classify_jira_error(exc) from exc
        return Receipt(status="sent", external_ref=key)

    # ------------------------------------------------------------------------------ create

    def _create(self, entry: Mapping[str, Any]) -> str:
        fingerprint, episode = str(entry["fingerprint"]), int(entry["episode"])
        label = idempotency_label(fingerprint, episode)
        payload = dict(entry.get("payload") or {})
        labels = _clean_labels([*(payload.get("labels") or []), "followthrough", label])
        existing = self._existing_ticket(fingerprint, episode, label)
        if existing is None and entry.get("uncertain"):
            # an earlier attempt (a dispatcher that died, an ambiguous failure) may have created it, and
            # search may not show a fresh ticket yet: look for the label as long as search may lag
            existing = self._await_label(label)
        if existing is not None:
            key, current_labels = existing
            missing = [lb for lb in labels if lb not in current_labels]
            if missing:  # e.g. a ticket recorded by the store before it carried the label
                self.client.edit_issue(key, update={"labels": [{"add": lb} for lb in missing]})
            log.info("ticket %s already exists for %s episode %d", key, fingerprint[:16], episode)
            return key
        fields = self._create_fields(entry, payload, labels)
        try:
            created = self.client.create_issue(fields)
        except JiraAmbiguousError as exc:
            log.warning("create for %s may have been applied (%s); looking for label %s", fingerprint[:16], exc, label)
            found = self._await_label(label)
            if found is None:
                raise DeliveryUncertain(
                    f"creating the ticket for {entry.get('idempotency_key')} failed ambiguously ({exc}) and no ticket "
                    f"labelled {label} appeared within {self.search_lag_seconds:.0f}s; left pending so the next run "
                    "checks again before creating") from None
            return found[0]
        key = str(created["key"])
        log.info("created %s for %s episode %d", key, fingerprint[:16], episode)
        return key

    def _existing_ticket(self, fingerprint: str, episode: int, label: str) -> tuple[str, list[str]] | None:
        recorded = self.ticket_key_for(fingerprint, episode)
        if recorded:
            try:
                issue = self.client.get_issue(recorded, fields=("labels", "status"))
            except JiraApiError as exc:
                if exc.status != 404:
                    raise
                log.warning("recorded ticket %s no longer exists; searching by label", recorded)
            else:
                return str(issue["key"]), list((issue.get("fields") or {}).get("labels") or [])
        issues = self._search_label(label)
        if not issues:
            return None
        if len(issues) > 1:
            log.warning("%d tickets carry label %s (%s); using the oldest", len(issues), label,
                        ", ".join(str(i["key"]) for i in issues))
        return str(issues[0]["key"]), list((issues[0].get("fields") or {}).get("labels") or [])

    def _search_label(self, label: str) -> list[dict[str, Any]]:
        page = self.client.search(f"labels = {jql_quote(label)} ORDER BY created ASC", ["labels", "status"], 10)
        return list(page.get("issues") or [])

    def _await_label(self, label: str) -> tuple[str, list[str]] | None:
        """Search for the label with backoff until it shows or ``search_lag_seconds`` have passed."""
        start = self.clock()
        slept = 0.0
        delay = 1.0
        while True:
            issues = self._search_label(label)
            if issues:
                return str(issues[0]["key"]), list((issues[0].get("fields") or {}).get("labels") or [])
            elapsed = max(self.clock() - start, slept)
            if elapsed >= self.search_lag_seconds:
                return None
            wait = min(delay, self.search_lag_seconds - elapsed)
            self.sleep(wait)
            slept += wait
            delay = min(delay * 2, 8.0)

    def _create_fields(self, entry: Mapping[str, Any], payload: Mapping[str, Any], labels: list[str]) -> dict[str, Any]:
        notes: list[str] = []
        fields: dict[str, Any] = {
            "project": {"key": self.project_key},
            "issuetype": {"name": self.issue_type},
            "summary": _one_line(str(payload.get("summary") or entry.get("idempotency_key")), SUMMARY_MAX),
            "labels": labels,
        }
        email = _assignee_email(payload)
        responsible = str(payload.get("assignee") or entry.get("recipient") or "")
        if email:
            account = self.client.find_user(email)
            if account:
                fields["assignee"] = {"accountId": account}
            else:
                notes.append(f"Unassigned: no Jira user was found for {email} (responsible: {responsible or email}).")
        elif responsible:
            notes.append(f"Unassigned: no email is known for the responsible person {responsible}.")
        episode = int(entry["episode"])
        if episode > 1:
            previous = self.ticket_key_for(str(entry["fingerprint"]), episode - 1)
            notes.append(f"This problem came back (episode {episode})"
                         + (f"; the previous episode's ticket is {previous}." if previous else "."))
        priority = payload.get("priority")
        if priority:
            fields["priority"] = {"name": self.priority_names.get(str(priority), str(priority))}
        due = payload.get("due_date") or payload.get("duedate")
        if due:
            due_text = str(due)[:10]
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", due_text):
                raise ValueError(f"entry {entry.get('idempotency_key')}: due date {due!r} is not YYYY-MM-DD")
            fields["duedate"] = due_text
        description = "\n\n".join([str(payload.get("description") or ""), *notes]).strip()
        fields["description"] = text_to_adf(description[:DESCRIPTION_MAX], markup=False)
        return fields

    # ------------------------------------------------------------------------------ comment, resolve

    def _ticket(self, entry: Mapping[str, Any]) -> str:
        fingerprint, episode = str(entry["fingerprint"]), int(entry["episode"])
        recorded = self.ticket_key_for(fingerprint, episode)
        if recorded:
            return recorded
        label = idempotency_label(fingerprint, episode)
        issues = self._search_label(label)
        if issues:
            return str(issues[0]["key"])
        raise DeliveryUncertain(
            f"{entry.get('action')} {entry.get('idempotency_key')}: no ticket labelled {label} is known or "
            "searchable yet (its create may be pending or not yet indexed); left pending")

    def _comment(self, entry: Mapping[str, Any]) -> str:
        key = self._ticket(entry)
        payload = entry.get("payload") or {}
        text = str(payload.get("comment") or payload.get("text") or "")
        self._comment_once(key, text, str(entry["idempotency_key"]))
        return key

    def _comment_once(self, key: str, text: str, idempotency_key: str, note: str | None = None) -> None:
        """Post the comment unless one with its marker is there; ``note`` names an entry's second comment."""
        marker = comment_marker(idempotency_key, note)
        body = text_to_adf(f"{text}\n\n{marker}" if text.strip() else marker, markup=False)
        for _ in range(3):
            if self._has_comment(key, marker):
                return
            try:
                self.client.add_comment(key, body)
                return
            except JiraAmbiguousError as exc:
                log.warning("comment on %s may have been applied (%s); checking", key, exc)
        if self._has_comment(key, marker):
            return
        raise DeliveryUncertain(f"commenting on {key} for {idempotency_key} failed ambiguously three times; left pending")

    def _has_comment(self, key: str, marker: str) -> bool:
        return any(marker in adf_to_text(c.get("body")) for c in self.client.comments(key, newest_first=True))

    def _update(self, entry: Mapping[str, Any]) -> str:
        """The finding changed: rewrite the description, or reassign to its new owner (PUTs: safe to repeat).

        The payload's comment ("Reassigned from X to Y") is posted either way. A new owner with no Jira
        user leaves the assignee as it is and asks for a reassignment in a second comment, under its own
        marker (``#no-jira-user``), so each of the two is posted once and neither passes for the other.
        """
        key = self._ticket(entry)
        payload = entry.get("payload") or {}
        fields: dict[str, Any] = {}
        if payload.get("description"):
            fields["description"] = text_to_adf(str(payload["description"])[:DESCRIPTION_MAX], markup=False)
        unassignable: str | None = None
        if "assignee" in payload:
            email = _assignee_email(payload)
            account = self.client.find_user(email) if email else None
            if account:
                fields["assignee"] = {"accountId": account}
            else:
                unassignable = (f"The responsible person is now {payload.get('assignee')}, but no Jira user was "
                                f"found for them ({email or 'no e-mail known'}); please reassign.")
        if fields:
            self.client.edit_issue(key, fields=fields)
        comment = str(payload.get("comment") or "")
        if comment:
            self._comment_once(key, comment, str(entry["idempotency_key"]))
        if unassignable:
            self._comment_once(key, unassignable, str(entry["idempotency_key"]), note=NO_JIRA_USER)
        return key

    def _reopen(self, entry: Mapping[str, Any]) -> str:
        """The finding returned soon after its resolution: reopen the previous episode's ticket.

        The ticket gets the new episode's label (so search finds it for this episode too), moves
        back out of Done if it is there, and gets the payload's comment once. With no earlier
        ticket to be found, a new one is created instead.
        """
        fingerprint, episode = str(entry["fingerprint"]), int(entry["episode"])
        # a waiver that expired reopens the same episode's ticket; a returning finding the previous one's
        same_episode = bool((entry.get("payload") or {}).get("same_episode"))
        ticket_episode = episode if same_episode else episode - 1
        previous = self.ticket_key_for(fingerprint, ticket_episode)
        if previous is None:
            found = self._search_label(idempotency_label(fingerprint, ticket_episode))
            previous = str(found[0]["key"]) if found else None
        if previous is None:
            if same_episode:
                raise DeliveryPermanent(f"{entry.get('idempotency_key')}: the waived ticket of episode {episode} "
                                        "cannot be found, so there is nothing to reopen")
            return self._create(entry)
        label = idempotency_label(fingerprint, episode)
        if not same_episode:
            self.client.edit_issue(previous, update={"labels": [{"add": label}]})
        self._move_out_of_done(previous)
        comment = str((entry.get("payload") or {}).get("comment") or "Reopened: the problem is back.")
        self._comment_once(previous, comment, str(entry["idempotency_key"]))
        return previous

    def _resolve(self, entry: Mapping[str, Any]) -> str:
        key = self._ticket(entry)
        payload = entry.get("payload") or {}
        self._move_to_done(key, str(payload.get("transition") or self.resolve_transition or "") or None)
        comment = str(payload.get("comment") or "")
        if comment:
            self._comment_once(key, comment, str(entry["idempotency_key"]))
        return key

    def _status(self, key: str) -> Mapping[str, Any]:
        status: Mapping[str, Any] = (self.client.get_issue(key, fields=("status",)).get("fields") or {}).get(
            "status") or {}
        return status

    def _move_to_done(self, key: str, named: str | None) -> None:
        """Into the done category: by the named transition (policy), else any transition into done,
        else forward through in-progress statuses not yet visited. Never a hard-coded status name."""
        visited: set[str] = set()
        hops = unsure = 0
        while True:
            status = self._status(key)
            if (status.get("statusCategory") or {}).get("key") == "done":
                return
            if hops >= self.max_transition_hops:
                raise DeliveryPermanent(f"{key} did not reach a done status after {hops} transitions")
            if unsure >= self.max_transition_hops:
                # a fault, not the workflow: the entry stays pending and the next attempt re-reads the status
                raise DeliveryUncertain(f"{key}: {unsure} transitions towards done failed ambiguously; left pending")
            visited.add(str(status.get("name")))
            available = self.client.transitions(key)
            choice = _pick_transition(available, named, ("done",), visited)
            if choice is None:
                wanted = f"the transition {named!r}" if named else "a transition into the done category"
                raise DeliveryPermanent(f"{key}: no {wanted} from {status.get('name')!r} "
                                        f"(on offer: {_on_offer(available)}); set dispatch.jira_resolve_transition")
            if self._do_transition(key, choice):
                hops += 1
            else:  # may or may not have been applied: the status, read again, tells; it is no hop of the workflow
                unsure += 1

    def _move_out_of_done(self, key: str) -> None:
        """Reopen: by the named transition (policy), else any transition into to-do, else into in progress."""
        status = self._status(key)
        if (status.get("statusCategory") or {}).get("key") != "done":
            return
        available = self.client.transitions(key)
        named = self.reopen_transition
        choice = _pick_transition(available, named, ("new", "indeterminate"), set())
        if choice is None:
            wanted = f"the transition {named!r}" if named else "a transition out of the done category"
            raise DeliveryPermanent(f"{key}: no {wanted} from {status.get('name')!r} "
                                    f"(on offer: {_on_offer(available)}); set dispatch.jira_reopen_transition")
        self._do_transition(key, choice)

    def _do_transition(self, key: str, choice: Mapping[str, Any]) -> bool:
        """True when Jira answered the transition; False when it may or may not have been applied."""
        try:
            self.client.do_transition(key, str(choice["id"]))
        except JiraAmbiguousError as exc:  # the next read of the status tells whether it happened
            log.warning("transition of %s may have been applied (%s); re-reading its status", key, exc)
            return False
        return True


def _on_offer(available: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"{t.get('name')} -> {(t.get('to') or {}).get('name')}" for t in available) or "none"


def _pick_transition(available: Sequence[Mapping[str, Any]], named: str | None, categories: Sequence[str],
                     visited: set[str]) -> Mapping[str, Any] | None:
    """The transition to take.

    With a name (the policy's): the transition of that name or into the status of that name.
    Without: the first transition into each wanted status category in turn. Towards done,
    failing those, one hop forward into an in-progress status not yet visited.
    """
    def to(t: Mapping[str, Any]) -> Mapping[str, Any]:
        return t.get("to") or {}

    def category(t: Mapping[str, Any]) -> str:
        return str((to(t).get("statusCategory") or {}).get("key", ""))

    if named:
        wanted = named.casefold()
        found = next((t for t in available if str(t.get("name", "")).casefold() == wanted
                      or str(to(t).get("name", "")).casefold() == wanted), None)
        if found is not None:
            return found
    else:
        for wanted_category in categories:
            found = next((t for t in available if category(t) == wanted_category), None)
            if found is not None:
                return found
    if "done" in categories:
        return next((t for t in available if category(t) == "indeterminate" and str(to(t).get("name")) not in visited),
                    None)
    return None


def _assignee_email(payload: Mapping[str, Any]) -> str:
    for name in ("assignee_email", "email"):
        value = str(payload.get(name) or "").strip()
        if "@" in value:
            return value
    assignee = str(payload.get("assignee") or "").strip()
    return assignee if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", assignee) else ""


def _clean_labels(labels: Iterable[Any]) -> list[str]:
    """Jira labels: no whitespace, at most 255 characters, no duplicates (order kept)."""
    out: list[str] = []
    for label in labels:
        text = re.sub(r"\s+", "-", str(label).strip())[:255]
        if text and text not in out:
            out.append(text)
    return out


def _one_line(text: str, limit: int) -> str:
    line = re.sub(r"\s+", " ", text).strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"
