from __future__ import annotations

import warnings

import pandas as pd

from followthrough.findings import fingerprint, reconcile, with_fingerprints


def _current(*subjects: str) -> pd.DataFrame:
    return with_fingerprints(pd.DataFrame({"rule": ["AI-STALE"] * len(subjects), "subject_type": "action_item",
                                           "subject_id": list(subjects)}))


def _stored(**status_by_subject: tuple[str, int]) -> pd.DataFrame:
    return pd.DataFrame([
        {"fingerprint": fingerprint("AI-STALE", "action_item", s), "rule": "AI-STALE", "subject_type": "action_item",
         "subject_id": s, "status": status, "episode": episode}
        for s, (status, episode) in status_by_subject.items()
    ], columns=["fingerprint", "rule", "subject_type", "subject_id", "status", "episode"])


def test_fingerprint_is_stable_and_distinguishes_rule_and_subject() -> None:
    assert fingerprint("AI-STALE", "action_item", "AI-1") == fingerprint("AI-STALE", "action_item", "AI-1")
    assert fingerprint("AI-STALE", "action_item", "AI-1") != fingerprint("AI-NO-OWNER", "action_item", "AI-1")
    assert fingerprint("AI-STALE", "action_item", "AI-1") != fingerprint("AI-STALE", "action_item", "AI-2")


def test_reconcile_first_run_everything_is_new() -> None:
    with warnings.catch_warnings():
        # an all-missing status lookup is float64; filling it with text is an error in a future pandas
        warnings.simplefilter("error")
        changes = reconcile(_current("A", "B"), _stored())
    assert dict(zip(changes["subject_id"], changes["change"], strict=True)) == {"A": "new", "B": "new"}
    assert set(changes["episode"]) == {1}


def test_reconcile_new_ongoing_resolved_and_reopened() -> None:
    stored = _stored(A=("open", 1), B=("open", 1), C=("resolved", 1), D=("resolved", 2))
    changes = reconcile(_current("A", "C", "E"), stored)
    by_subject = {r.subject_id: (r.change, r.episode) for r in changes.itertuples()}
    assert by_subject == {"A": ("ongoing", 1), "C": ("reopened", 2), "E": ("new", 1), "B": ("resolved", 1)}


def test_reconcile_with_nothing_today_and_nothing_open() -> None:
    assert reconcile(_current(), _stored(C=("resolved", 1))).empty


def _waiver(subject: str, expires: str):  # type: ignore[no-untyped-def]
    from followthrough.policy import Waiver

    return Waiver(rule="AI-STALE", subject_id=subject, reason="parked until the migration", approver="lena.lead",
                  expires=expires)


def test_waiver_applies_until_the_end_of_its_expiry_day() -> None:
    from followthrough.findings import apply_waivers

    current = _current("A", "B", "C")
    waived = apply_waivers(current, [_waiver("A", "2026-07-15"), _waiver("B", "2026-07-14")],
                           pd.Timestamp("2026-07-15T23:59:59Z"))
    assert [w is not None for w in waived["waiver"]] == [True, False, False]
    assert waived.loc[0, "waiver"]["approver"] == "lena.lead"


def test_reconcile_waives_and_an_expired_waiver_reopens() -> None:
    from followthrough.findings import apply_waivers

    current = apply_waivers(_current("A", "B"), [_waiver("A", "2026-08-01")], pd.Timestamp("2026-07-15T10:00Z"))
    first = reconcile(current, _stored(B=("open", 1)))
    assert {r.subject_id: (r.change, r.status) for r in first.itertuples()} == {
        "A": ("new", "waived"), "B": ("ongoing", "open")}
    later = apply_waivers(_current("A"), [_waiver("A", "2026-08-01")], pd.Timestamp("2026-08-02T00:00Z"))
    second = reconcile(later, _stored(A=("waived", 1)))
    # the same episode continues: its ticket reopens rather than a second ticket being opened
    assert (second.loc[0, "change"], second.loc[0, "status"], second.loc[0, "episode"]) == ("reopened", "open", 1)
    assert second.loc[0, "previous_status"] == "waived"
    waived_again = reconcile(current.iloc[[0]], _stored(A=("open", 1)))
    assert (waived_again.loc[0, "change"], waived_again.loc[0, "status"]) == ("waived", "waived")


def test_reconcile_marks_a_new_owner_as_changed_and_names_the_previous_one() -> None:
    stored = _stored(A=("open", 1), B=("open", 1)).assign(responsible=["omar.owner", "lena.lead"])
    current = _current("A", "B").assign(responsible=["ida.lead", "lena.lead"])
    changes = reconcile(current, stored).set_index("subject_id")
    assert (changes.at["A", "change"], changes.at["A", "previous_responsible"]) == ("changed", "omar.owner")
    assert (changes.at["B", "change"], changes.at["B", "previous_responsible"]) == ("ongoing", None)


def test_reconcile_marks_a_changed_reason_but_not_a_moving_counter() -> None:
    stored = _stored(A=("open", 1), B=("open", 1)).assign(reason=["no status update for 9 days", "owner is TBD"])
    current = _current("A", "B").assign(reason=["no status update for 10 days", "owner left the company"])
    changes = reconcile(current, stored)
    assert dict(zip(changes["subject_id"], changes["change"], strict=True)) == {"A": "ongoing", "B": "changed"}
