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
from datetime import UTC, datetime
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
    (timeout, reset, 5xx after sending) it is never sent again until a label search started
    ``search_lag_seconds`` after the failure shows no ticket: the gateway searches once at
    once (a write that landed may be indexed already) and otherwise raises
    :class:`DeliveryUncertain`, so the dispatch goes on with other entries while the lag
    passes instead of sleeping through it. The next delivery of the entry (the outbox's
    ``attempts`` and ``last_attempt_at`` say when its last attempt ended) waits out only what
    is left of the lag, searches, and creates only if the label is still absent. The lag is
    waited once per failure, not once when it fails and again before the retry. An entry
    reclaimed from a dispatcher that died (``entry["reclaimed"]``, or ``uncertain`` with no
    recorded attempt) may have been written at any moment up to now, so it is looked for with
    backoff for ``search_lag_seconds`` from now before it is created. :meth:`prepare` answers
    the label searches of a claimed batch with one search.
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
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
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
        self.now = now
        # label -> (monotonic instant the batch search started, the issues it found): see prepare()
        self._prefetched: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._batch_labels: list[str] = []  # the labels of the batch prepare() noted, not yet searched for
        # label -> monotonic instant a create of it failed ambiguously in this gateway's life
        self._ambiguous: dict[str, float] = {}
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

    def prepare(self, entries: Iterable[Mapping[str, Any]]) -> None:
        """Note the labels of a claimed batch's creates: the first of them to be looked up searches for all.

        Each create must know whether a ticket with its label exists; one ``labels in (...)``
        search answers that for the whole batch (the outbox claims 25 at a time) instead of one
        search per entry. The search is made inside the first create's delivery, so whatever it
        meets is counted with that attempt. A create uses the answer only if the search started
        after its own not-before instant (the search lag since an earlier attempt that may have
        created it), and only once: a second create of the same label searches afresh.
        """
        self._prefetched = {}
        self._batch_labels = sorted({idempotency_label(str(e["fingerprint"]), int(e["episode"])) for e in entries
                                     if e.get("action") == "create_ticket" and e.get("fingerprint")})

    def _search_batch(self) -> None:
        """The batch search noted by :meth:`prepare`; when it fails nothing is kept and each create searches."""
        labels, self._batch_labels = self._batch_labels, []
        started = self.clock()
        try:
            issues = list(self.client.search_all(
                f"labels in ({', '.join(jql_quote(label) for label in labels)}) ORDER BY created ASC",
                ["labels", "status"]))
        except JiraError as exc:
            log.warning("batch label search for %d creates failed (%s); each searches for itself", len(labels), exc)
            return
        found: dict[str, list[dict[str, Any]]] = {label: [] for label in labels}
        for issue in issues:
            for label in (issue.get("fields") or {}).get("labels") or []:
                if label in found:
                    found[label].append(issue)
        self._prefetched = {label: (started, listed) for label, listed in found.items()}

    def _create(self, entry: Mapping[str, Any]) -> str:
        fingerprint, episode = str(entry["fingerprint"]), int(entry["episode"])
        label = idempotency_label(fingerprint, episode)
        payload = dict(entry.get("payload") or {})
        labels = _clean_labels([*(payload.get("labels") or []), "followthrough", label])
        existing = self._recorded_ticket(fingerprint, episode)
        if existing is None:
            if entry.get("reclaimed") or (entry.get("uncertain") and self._failed_at(entry) is None):
                # a dispatcher that died holding the claim may have created it, at a moment nobody recorded
                # (its attempt is not in last_attempt_at): look for the label as long as search may lag, from now
                existing = _first(self._await_label(label, self.clock() + self.search_lag_seconds))
            else:
                # an earlier attempt may have created it (its create failed ambiguously, here or in an earlier
                # run): only a search started once the search lag has passed since then may say it is absent
                existing = _first(self._await_label(label, self._not_before(entry, label)))
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
            # never sent again before a search after the lag: the entry is left pending (the dispatch goes on
            # with other entries meanwhile) and its next delivery waits out whatever is left of the lag first
            self._ambiguous[label] = self.clock()
            log.warning("create for %s may have been applied (%s); looking for label %s", fingerprint[:16], exc, label)
            found = _first(self._await_label(label, self.clock()))  # a write that landed and is indexed already
            if found is None:
                raise DeliveryUncertain(
                    f"creating the ticket for {entry.get('idempotency_key')} failed ambiguously ({exc}) and no ticket "
                    f"labelled {label} is searchable yet; left pending: it is searched for again once "
                    f"{self.search_lag_seconds:.0f}s of search lag have passed, before any create") from None
            return found[0]
        key = str(created["key"])
        log.info("created %s for %s episode %d", key, fingerprint[:16], episode)
        return key

    def _failed_at(self, entry: Mapping[str, Any]) -> datetime | None:
        """When the entry's last attempt ended (the outbox's ``last_attempt_at``), if it had one."""
        if not int(entry.get("attempts") or 0):
            return None
        return _as_utc(entry.get("last_attempt_at"))

    def _not_before(self, entry: Mapping[str, Any], label: str) -> float | None:
        """The monotonic instant after which a label search may show the label absent, for this entry.

        None when no earlier attempt of the entry, and no create of the label by this gateway, is known:
        any search answers then.

        Any earlier attempt may have created the ticket: its create may have failed ambiguously
        (the outbox's ``last_attempt_at`` is recorded after the attempt ended, and a later
        attempt only moves it later), and so may a create of this gateway. A search started
        ``search_lag_seconds`` after the latest of those sees a ticket such an attempt made.
        """
        instants = []
        failed = self._failed_at(entry)
        if failed is not None:
            instants.append(self.clock() - max(0.0, (self.now() - failed).total_seconds()) + self.search_lag_seconds)
        if label in self._ambiguous:
            instants.append(self._ambiguous[label] + self.search_lag_seconds)
        return max(instants) if instants else None

    def _recorded_ticket(self, fingerprint: str, episode: int) -> tuple[str, list[str]] | None:
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
        return None

    def _search_label(self, label: str) -> list[dict[str, Any]]:
        page = self.client.search(f"labels = {jql_quote(label)} ORDER BY created ASC", ["labels", "status"], 10)
        return list(page.get("issues") or [])

    def _await_label(self, label: str, until: float | None) -> list[dict[str, Any]]:
        """The issues carrying the label, by searches until one shows it or one that began at ``until`` or later
        shows it absent.

        ``until`` is a monotonic instant (the lag after the last moment the label may have been
        created; None: any search answers); a batch search (:meth:`prepare`) that started at or
        after it answers without a request. Between searches it backs off (1, 2, 4, 8 s), never
        past ``until``; with an injected sleep the time slept counts as passed. A wait that would
        pass the dispatch attempt's deadline defers the entry instead.
        """
        if label in self._batch_labels and len(self._batch_labels) > 1:
            self._search_batch()
        prefetched = self._prefetched.pop(label, None)
        if prefetched is not None and (until is None or prefetched[0] >= until):
            issues = prefetched[1]
            if len(issues) > 1:
                log.warning("%d tickets carry label %s (%s); using the oldest", len(issues), label,
                            ", ".join(str(i["key"]) for i in issues))
            return issues
        start = self.clock()
        slept = 0.0
        delay = 1.0
        while True:
            # when this search began, not when it answered: a slow search that began within the lag may have
            # missed a ticket made just before the lag's start, however late its answer comes
            began = max(self.clock(), start + slept)
            issues = self._search_label(label)
            if issues:
                if len(issues) > 1:
                    log.warning("%d tickets carry label %s (%s); using the oldest", len(issues), label,
                                ", ".join(str(i["key"]) for i in issues))
                return issues
            if until is None or began >= until:
                return []
            # back off, but no longer than the lag still lasts now (a slow answer may have outlasted it)
            wait = max(0.0, min(delay, until - max(self.clock(), start + slept)))
            deadline = getattr(self.client, "deadline", None)
            if deadline is not None and self.client.clock() + wait > deadline:
                raise DeliveryDeferred(f"the search lag for label {label} has not passed and waiting would pass "
                                       "this dispatch attempt's time budget; left pending") from None
            if wait > 0:
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


def _first(issues: Sequence[Mapping[str, Any]]) -> tuple[str, list[str]] | None:
    """(key, labels) of the oldest issue found, or None."""
    if not issues:
        return None
    return str(issues[0]["key"]), list((issues[0].get("fields") or {}).get("labels") or [])


def _as_utc(value: Any) -> datetime | None:
    """A store timestamp (naive UTC datetime, or its ISO text) as an aware UTC datetime; None if absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value))
        except ValueError:
            return None
    try:
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    except (TypeError, ValueError):  # NaT
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
