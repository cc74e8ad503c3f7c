from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from followthrough.rules.vague import (
    REASON_CODES,
    Reason,
    VagueVerdict,
    assess_summaries,
    assess_summary,
)

DEV_SET = Path(__file__).resolve().parents[1] / "data" / "action_items_labelled.csv"


def codes(text: str | None) -> set[str]:
    return set(assess_summary(text).codes)


# --- the spec's own examples ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Add alert on p99 latency > 800ms for checkout-api",
        "Upgrade libssl to 3.0.13 on edge proxies",
        "Investigate why the payments-db connection pool exhausted at 200 connections and set max to 400",
    ],
)
def test_concrete_examples_pass(text: str) -> None:
    verdict = assess_summary(text)
    assert verdict == VagueVerdict(vague=False, reasons=())


@pytest.mark.parametrize("text", ["Improve monitoring", "Look into the DB issue", "TBD", "Investigate"])
def test_vague_examples_fail(text: str) -> None:
    assert assess_summary(text).vague


# --- each reason, firing and not firing --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("TBD", None),
        ("n/a", None),
        ("?", None),
        ("misc", None),
        ("Fix it", None),
        ("Alert for the checkout service, threshold TBD", "tbd"),
        ("TODO add tests", "todo"),
        ("Clean up the deploy scripts, configs, dashboards etc", "etc"),
        ("Clean up the deploy scripts, configs etc.", "etc"),
        ("Add alerts for various stuff in the payments service", "various"),
        ("Make sure this does not happen for similar issues", "similar issues"),
        ("Are we alerting on this ( ? )", "?"),
    ],
)
def test_placeholder_fires(text: str, word: str | None) -> None:
    reasons = [r for r in assess_summary(text).reasons if r.code == "placeholder"]
    assert reasons, text
    if word is None:
        assert reasons[0].detail == "the whole item is a placeholder"
    else:
        assert reasons[0].detail == f'placeholder "{word}" stands in for the content'


@pytest.mark.parametrize(
    "text",
    [
        "TODO: add alert for disk usage > 90% on db-1",  # a TODO: marker is a lead-in, not content
        "Change the Traefik healthcheck path to something that checks the backend",  # outside the object span
        "Can we use AWS Certificate Manager instead of Letsencrypt?",  # a bounded question, not a bare "?"
        "Add *.out to .gitignore",
        "Record every manual patch of the API server in /etc/motd",  # a path, not an open list
        "Rotate the keys under /etc/ssh/authorized_keys on the bastion hosts",
    ],
)
def test_placeholder_does_not_fire(text: str) -> None:
    assert "placeholder" not in codes(text)


@pytest.mark.parametrize(
    "text",
    ["Monitoring", "Be careful", "Prevent recurrence", "Check it again", "Speak to people"],
)
def test_too_short_fires(text: str) -> None:
    verdict = assess_summary(text)
    assert "too_short" in verdict.codes
    assert verdict.vague
    detail = next(r.detail for r in verdict.reasons if r.code == "too_short")
    assert detail.startswith("too short to act on (")
    assert detail.endswith("meaningful words)")


@pytest.mark.parametrize(
    "text",
    [
        "Automate Boskos deploys",  # three words, but a named system and an artefact
        "Version lock Flux",
        "Recover production replicas",
        "Prometheus monitoring for backups",
        "Pin terraform to 1.5.7",
    ],
)
def test_too_short_does_not_fire_on_short_concrete_items(text: str) -> None:
    assert "too_short" not in codes(text)


@pytest.mark.parametrize(
    "text",
    [
        "Improve our incident response process",
        "Ensure this doesn't happen again",
        "Update documentation",
        "Reflect on how our communication can become more visible",
        "Reduce toil for the team",
    ],
)
def test_no_concrete_target_fires(text: str) -> None:
    assert "no_concrete_target" in codes(text)


@pytest.mark.parametrize(
    "text",
    [
        "Add runbook for Kafka consumer lag",  # product name
        "Set max_connections on the primary",  # config key
        "Raise the limit to 400",  # number
        "Create a dashboard for queue depth",  # artefact noun
        "Rotate the 'deploy-bot' credentials",  # quoted literal
        "Move sessions to checkout-cache",  # kebab-case component
        "Restart the kubelet on every worker",  # well-known product in lower case
    ],
)
def test_no_concrete_target_does_not_fire(text: str) -> None:
    assert "no_concrete_target" not in codes(text)


@pytest.mark.parametrize(
    ("text", "verb"),
    [
        ("Look into the DB issue", "look into"),
        ("Investigate performance issues on the search page", "investigate"),
        ("Review alerting", "review"),
        ("Improve monitoring", "improve"),
        ("Improve alerting around the Boskos status", "improve"),  # improvement needs a bar or a means
        ("Consider adding more alerts", "consider"),
        ("Think about failover", "think about"),
        ("Revisit the deployment process", "revisit"),
        ("Discuss the Redis sharding plan with the vendor", "discuss"),  # no deliverable, even when named
        ("Follow up with the team", "follow up"),
        ("Evaluate options", "evaluate"),
        ("Understand root cause", "understand"),
        ("Check the queue", "check"),
        ("Explore caching", "explore"),
        ("Figure out how to monitor the critical CVEs", "figure out"),  # method-seeking
        ("We need to look into the cron jobs", "look into"),  # after a lead-in
        ("Document and think about overcommit ratios for memory usage", "think about"),  # coordinated
        ("Observability gaps: review the alerting", "review"),  # after a heading
    ],
)
def test_vague_verb_fires(text: str, verb: str) -> None:
    reasons = [r for r in assess_summary(text).reasons if r.code == "vague_verb"]
    assert reasons, text
    assert reasons[0].detail == f'vague verb "{verb}" with no bounded object'


def test_vague_verb_with_abstract_object() -> None:
    verdict = assess_summary("Define a deployment strategy for the short term")
    assert Reason("vague_verb", 'vague verb "define" + "strategy" with an abstract object') in verdict.reasons


def test_vague_verb_nominal_form() -> None:
    assert "vague_verb" in codes("A configuration drift analysis is needed")


@pytest.mark.parametrize("summary", [
    "A complete review of the on-call handover process",
    "An evaluation of the queueing design for the mail relay",
    "Capacity analysis continues with the hosting provider to find the cause of the throttling",
])
def test_vague_verb_nominal_head_or_under_way(summary: str) -> None:
    verdict = assess_summary(summary)
    assert "vague_verb" in verdict.codes, summary
    assert all(r.detail for r in verdict.reasons)


@pytest.mark.parametrize(
    "text",
    [
        "Investigate why the payments-db connection pool exhausted at 200 connections",  # named + number
        "Investigate pgbarman for creating PostgreSQL backups",  # names what to evaluate
        "Look into if this is also an issue in Traefik 2.X",
        "Investigate whether the nightly vacuum job causes the timeouts",  # specific question on artefacts
        "Enhance the daily pipeline run with a synthetic check",  # improvement with a concrete means
        "Improve p99 latency of the search API to under 300ms",  # improvement with a bar
        "Add alert on queue depth",  # not a vague verb at all
    ],
)
def test_vague_verb_does_not_fire_when_bounded(text: str) -> None:
    assert "vague_verb" not in codes(text)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Setup better Grafana dashboards", "better"),
        ("Add more Fluentd alerts", "more fluentd"),
        ("Make the ingestion pipeline more resilient", "more resilient"),
        ("Ensure pods have appropriate resource requests", "appropriate"),
        ("Increase test coverage", "increase"),
        ("Find out if the ingestion to the database is too slow", "too slow"),
    ],
)
def test_unmeasurable_goal_fires(text: str, words: str) -> None:
    reasons = [r for r in assess_summary(text).reasons if r.code == "unmeasurable_goal"]
    assert reasons, text
    assert reasons[0].detail == f'unmeasurable goal "{words}" with no number or threshold'


@pytest.mark.parametrize(
    "text",
    [
        "Increase the ingress-nginx replica count from 2 to 4",  # a number sets the bar
        "Make the failover faster than 30 seconds",
        "Move flag evaluation out of the Django monolith to a more scalable service",  # purpose clause
        "Add comprehensive integration tests for the FetchWrapper with FormData bodies",  # named artefact
        "Remove failing pods from rotation within seconds rather than minutes",  # explicit bound
    ],
)
def test_unmeasurable_goal_does_not_fire(text: str) -> None:
    assert "unmeasurable_goal" not in codes(text)


@pytest.mark.parametrize(
    "text",
    [
        "Workload segmentation might be an option to limit blast zones",
        "If possible observe the next daily run of the pipeline",
        "Maybe add a check on the pipeline",
    ],
)
def test_hedged_fires(text: str) -> None:
    assert "hedged" in codes(text)


def test_hedged_does_not_fire_when_named() -> None:
    assert "hedged" not in codes("If possible, pin the Helm chart of cert-manager to v1.14.4")
    assert "hedged" not in codes("Add a check on the pipeline")


@pytest.mark.parametrize(
    "text",
    ["How to get the latest releases of components in our stack?", "What should we monitor on the cluster"],
)
def test_open_question_fires(text: str) -> None:
    assert "open_question" in codes(text)


def test_open_question_fires_on_a_string_of_questions() -> None:
    verdict = assess_summary("Alert on the worker count? Should we also page on it?")
    assert Reason("open_question", "a list of questions, not an action") in verdict.reasons


def test_open_question_does_not_fire_on_bounded_question() -> None:
    assert "open_question" not in codes("Can we use AWS Certificate Manager instead of Letsencrypt?")
    assert "open_question" not in codes("Add alert when disk usage is above 90%")


def test_reason_codes_are_stable() -> None:
    assert REASON_CODES == (
        "placeholder",
        "too_short",
        "no_concrete_target",
        "vague_verb",
        "unmeasurable_goal",
        "hedged",
        "open_question",
    )
    seen: set[str] = set()
    for text in ["TBD", "Improve monitoring", "maybe better stuff", "How do we fix this?", "Discuss"]:
        seen |= codes(text)
    assert seen <= set(REASON_CODES)


def test_verdict_is_frozen_and_explained() -> None:
    verdict = assess_summary("Look into the cron issue")
    assert isinstance(verdict, VagueVerdict)
    with pytest.raises(AttributeError):
        verdict.vague = False  # type: ignore[misc]
    assert verdict.vague is True
    assert all(isinstance(r, Reason) and r.detail for r in verdict.reasons)
    assert verdict.reasons[0].as_dict() == {"code": verdict.reasons[0].code, "detail": verdict.reasons[0].detail}


# --- edge cases ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, math.nan, pd.NA, "", "   ", "\n\t"])
def test_missing_and_empty_summaries_are_vague(value: object) -> None:
    verdict = assess_summary(value)  # type: ignore[arg-type]
    assert verdict.vague
    assert set(verdict.codes) == {"too_short", "no_concrete_target"}


@pytest.mark.parametrize(
    ("text", "vague"),
    [
        ("Improve monitoring 🚀", True),
        ("Add alert on p99 latency > 800 ms for 结账-api", False),
        ("Upgrade libssl to 3.0.13 on edge proxies — “urgent”", False),
        ("Améliorer la surveillance", True),
        ("🔥🔥🔥", True),
        ("Rotate the API key in Vault\u00a0and\u2009update the deploy-bot secret", False),
    ],
)
def test_unicode(text: str, vague: bool) -> None:
    assert assess_summary(text).vague is vague


def test_very_long_text_is_not_judged() -> None:
    # one action item is a sentence or two: a 200 kB field is a paste, and no verdict is given
    for text in ("Add alert on p99 latency > 800ms for checkout-api. " * 5000,
                 "Improve monitoring and look into things. " * 5000, "x" * 200_000):
        verdict = assess_summary(text)
        assert (verdict.vague, verdict.reasons) == (False, ())
        assert verdict.verdict.startswith("not judged: too long (")


def test_non_string_values() -> None:
    frame = assess_summaries(pd.Series([42, 3.5, "Raise the pool size to 400 on payments-db"], dtype=object))
    assert frame["vague"].tolist() == [True, True, False]


# --- assess_summaries ------------------------------------------------------------------------


def test_assess_summaries_keeps_index_and_columns() -> None:
    summaries = pd.Series(["TBD", None, "Add alert on queue depth"], index=["b", "a", "z"])
    frame = assess_summaries(summaries)
    assert list(frame.columns) == ["vague", "reasons", "verdict"]
    assert list(frame.index) == ["b", "a", "z"]
    assert frame["vague"].dtype == bool
    assert frame["vague"].tolist() == [True, True, False]
    assert frame.at["z", "reasons"] == []
    assert all(set(r) == {"code", "detail"} for r in frame.at["b", "reasons"])


def test_assess_summaries_empty_series() -> None:
    frame = assess_summaries(pd.Series([], dtype=object))
    assert frame.empty
    assert list(frame.columns) == ["vague", "reasons", "verdict"]


def test_duplicate_rows_do_not_share_reason_lists() -> None:
    frame = assess_summaries(pd.Series(["Improve monitoring", "Improve monitoring"]))
    assert frame.at[0, "reasons"] == frame.at[1, "reasons"]
    frame.at[0, "reasons"].append({"code": "x", "detail": "y"})
    assert frame.at[1, "reasons"][-1]["code"] != "x"


def test_assess_summaries_matches_assess_summary_row_by_row() -> None:
    dev = pd.read_csv(DEV_SET, dtype=str, keep_default_na=False)
    extra = ["", "TBD", "Improve monitoring 🚀", None, "Add alert on p99 latency > 800ms for checkout-api"]
    summaries = pd.Series([*dev["summary"], *extra], dtype=object)
    summaries.index = [f"row-{i}" for i in range(len(summaries))]
    frame = assess_summaries(summaries)
    # Row independence of the vectorised path: every extra and a fixed sample of the dev set, one at a time
    # (a one-row call costs a whole frame pass, so all 833 would take minutes).
    sample = pd.concat([summaries.iloc[::10], summaries.iloc[-len(extra):]])
    for key, text in sample.items():
        single = assess_summary(text)
        assert frame.at[key, "vague"] == single.vague, text
        assert frame.at[key, "reasons"] == [r.as_dict() for r in single.reasons], text


def test_parallel_path_matches_serial_path() -> None:
    from followthrough.rules import vague

    dev = pd.read_csv(DEV_SET, dtype=str, keep_default_na=False)
    values = [f"{s} ({i % 7})" if i % 2 else s for i, s in enumerate(dev["summary"].tolist() * 3)]
    serial = vague._assess_unique(pd.Series(values, dtype=object))
    previous = vague.PARALLEL_MIN_ROWS
    vague.PARALLEL_MIN_ROWS = 10
    try:
        parallel = vague._assess_parallel(pd.Series(values, dtype=object).to_numpy())
    finally:
        vague.PARALLEL_MIN_ROWS = previous
    assert parallel == serial


# --- the labelled development set ----------------------------------------------------------


def load_dev_set() -> pd.DataFrame:
    frame = pd.read_csv(DEV_SET, dtype=str, keep_default_na=False)
    frame["vague"] = frame["vague"].map({"true": True, "false": False})
    return frame


def test_dev_set_shape() -> None:
    dev = load_dev_set()
    assert list(dev.columns) == ["id", "org", "summary", "vague", "source_url", "note"]
    assert len(dev) >= 800
    assert dev["org"].nunique() >= 20
    assert dev["id"].is_unique
    assert dev["summary"].str.strip().ne("").all()
    assert dev["summary"].str.lower().is_unique
    assert dev["vague"].notna().all()
    assert dev["source_url"].str.match(r"^https://").all()
    assert 0.25 <= dev["vague"].mean() <= 0.45


def _script(name: str) -> Any:
    """A module of scripts/ (they are not a package), registered so dataclasses find it."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[2] / "scripts" / f"{name}.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_leave_one_organisation_out_pooled_f1() -> None:
    """The figure tests/data/README.md reports, with a margin: the rules have no fitted
    parameters, so scoring each left-out organisation is scoring the fixed rules on it."""
    module = _script("eval_vague")
    frame = module.load(DEV_SET)
    result = module.evaluate(frame)
    rules, model = result["rules"], result["model"]
    print(f"\nAI-VAGUE leave-one-org-out pooled: rules {rules.line()}; learned model {model.line()}")
    # all 1479 items, 37 organisations (round 5's 179 held-out items included): P 0.697, R 0.846,
    # F1 0.765; the 1300 items before round 5: P 0.730, R 0.853, F1 0.787
    assert rules.f1 >= 0.74
    assert rules.precision >= 0.67
    assert rules.recall >= 0.82
    # the learned combination does not beat the rules, which is why none ships
    assert model.f1 < rules.f1
    # the 1118 development items the round-4 changes were made against: P 0.747, R 0.851, F1 0.796
    # (0.772 before them)
    development = ~frame["org"].isin(HELD_OUT_ORGS_ROUND_4 + HELD_OUT_ORGS_ROUND_5).to_numpy()
    truth = frame["vague"].to_numpy(dtype=bool)
    rules_verdicts = result["_rules"]  # type: ignore[index]
    dev = module.Scores.of(truth[development], rules_verdicts[development])
    assert int(development.sum()) == 1118
    assert dev.f1 >= 0.78
    assert dev.precision >= 0.73


# labelled and committed before any detector was run on them (tests/data/README.md). Rounds 2 and 3
# (openfoodfacts, matrix-org; berkeley-datahub, github, aws: 285 items) were held out for the rules as
# they stood then and are development data since round 4; round 4's five organisations (182 items,
# labels in commit 65664a8) and round 5's five (179 items, labels in commit 183219e) are held out for
# the rules as they now stand.
HELD_OUT_ORGS = ("openfoodfacts", "matrix-org")
HELD_OUT_ORGS_ROUND_3 = ("berkeley-datahub", "github", "aws")
HELD_OUT_ORGS_ROUND_4 = ("opensuse-obs", "optimism", "cheqd", "val-town", "homebrew")
HELD_OUT_ORGS_ROUND_5 = ("wikimedia", "cosmos", "hachyderm", "rotko", "mezo")


def rules_on(orgs: tuple[str, ...], items: int, vague: int) -> Any:
    """The rules' scores on these organisations' items, after checking the set is the one labelled."""
    module = _script("eval_vague")
    frame = module.load(DEV_SET)
    held = frame[frame["org"].isin(orgs)].reset_index(drop=True)
    assert (len(held), int(held["vague"].sum())) == (items, vague)
    predicted = assess_summaries(held["summary"])["vague"].to_numpy(dtype=bool)
    return module.Scores.of(held["vague"].to_numpy(dtype=bool), predicted)


def test_held_out_organisations_figure() -> None:
    """The held-out figure tests/data/README.md reports, with a margin: 182 items from five
    organisations new to the data (66 vague), labelled and committed before any detector ran on
    them, scored once after the round-4 changes: P 0.640, R 0.864, F1 0.735 (the rules before round
    4 scored P 0.663, R 0.864, F1 0.750 on them). Below the development figure, as expected."""
    scores = rules_on(HELD_OUT_ORGS_ROUND_4, 182, 66)
    print(f"\nAI-VAGUE held-out organisations (round 4): {scores.line()}")
    assert scores.f1 >= 0.70
    assert scores.precision >= 0.60
    assert scores.recall >= 0.82
    # the organisations of rounds 2 and 3, development data since round 4 (0.667 when they were held out)
    assert rules_on(HELD_OUT_ORGS + HELD_OUT_ORGS_ROUND_3, 285, 105).f1 >= 0.67


def test_held_out_organisations_figure_round_5() -> None:
    """Round 5 (tests/data/README.md): 179 items from five more organisations new to the data (44
    vague), labelled and committed (183219e) before any detector ran on them, scored once by the rules
    as they stood after round 4: P 0.453, R 0.773, F1 0.571. Precision is what fails on new sources."""
    scores = rules_on(HELD_OUT_ORGS_ROUND_5, 179, 44)
    print(f"\nAI-VAGUE held-out organisations (round 5): {scores.line()}")
    assert scores.f1 >= 0.52
    assert scores.recall >= 0.70


def test_nested_evaluation_never_uses_the_left_out_organisation(monkeypatch: pytest.MonkeyPatch) -> None:
    """scripts/eval_vague_learned.py: flipping every label of one organisation changes none of
    its own left-out verdicts (its labels choose no hyperparameter and fit no weight), for every
    combination with the rules; it does change the verdicts of the others (the check can fail)."""
    module = _script("eval_vague_learned")
    monkeypatch.setattr(module, "GRID_C", (0.3, 3.0))
    monkeypatch.setattr(module, "GRID_TEXT_WEIGHT", (1.0,))
    dev = load_dev_set()
    orgs = ["dfds", "mozilla-taskcluster", "uk-moj", "posthog"]
    frame = pd.concat([dev[dev["org"] == org].head(25) for org in orgs], ignore_index=True)
    target = frame["org"] == "uk-moj"
    flipped = frame.assign(vague=frame["vague"].where(~target, ~frame["vague"].astype(bool)))

    before, chosen = module.nested(module.Data(frame), "rts")
    after, _ = module.nested(module.Data(flipped), "rts")
    held = target.to_numpy()
    assert set(chosen["model"]) == set(orgs)
    for how in module.COMBINATIONS:
        assert (before[how][held] == after[how][held]).all(), how
    assert any((before[how][~held] != after[how][~held]).any() for how in module.COMBINATIONS)


# --- failure shapes from issue 12 (examples written for these tests) ---------------------------


@pytest.mark.parametrize("summary", [
    "We will make changes to speed up recovery of the storage layer",
    "We are working on better anomaly detection",
    "Take regular backups of the config database",
    "Define a policy for when to fail over",
    "Stress the importance of following the change process",
    "Engineers will take steps to reduce the impact of similar events",
    "Make further improvements to the release tooling",
])
def test_narrative_commitments_without_measure_or_end_state_are_vague(summary: str) -> None:
    verdict = assess_summary(summary)
    assert verdict.vague, summary
    assert verdict.reasons  # explanations stay mandatory
    assert all(r.detail for r in verdict.reasons)


@pytest.mark.parametrize("summary", [
    "Look into search-api",
    "Investigate the cache errors",
    "Look into the payments-db replica",
    "Investigate checkout-api 502s",
    "Explore migration options for the Cassandra cluster",
    "We are exploring paths to move the batch jobs off Jenkins",
])
def test_investigation_whose_only_object_is_a_component_is_vague(summary: str) -> None:
    verdict = assess_summary(summary)
    assert verdict.vague, summary
    assert "vague_verb" in verdict.codes


@pytest.mark.parametrize("summary", [
    "Investigate why search-api returns 502 after each deploy",
    "Investigate whether the cache errors come from the Redis eviction policy",
    "Investigate and fix the memory leak in the kubespawner reflector",
    "Investigate and drop the slow query plan on the orders table",
    "Identify and deploy the fix for the bug that froze the scheduler",
    "Investigate pgbarman for creating PostgreSQL backups",
    "Take daily backups of the config database and keep 30 days",
])
def test_bounded_investigations_and_periods_stay_concrete(summary: str) -> None:
    assert not assess_summary(summary).vague, summary


@pytest.mark.parametrize("summary", [
    "Where possible, pin the nginx-ingress chart to 4.10.1 in every cluster's helmfile and add a CI check that "
    "fails the pipeline on unpinned charts",
    "If needed, raise the payments-db pgbouncer max_client_conn from 400 to 800 and alert when it passes 90%",
    "Potentially move the checkout-api rate limiter to Envoy, with a 200 requests/s per-client limit and a "
    "load test at 2x peak before rollout",
])
def test_long_specific_items_with_a_hedge_word_are_not_vague(summary: str) -> None:
    assert not assess_summary(summary).vague, summary


@pytest.mark.parametrize(("summary", "vague"), [
    ("Fix the bug that made the ledger worker drop messages on restart", False),
    ("Repair the code defect behind the duplicate invoice emails", False),
    ("A code fix for the session-expiry regression will be deployed this week", False),
    ("Issue a hotfix for the bug", False),
    ("Fix issues", True),  # nothing named: too short
    ("Fix the bug if possible and improve things", True),  # a placeholder and a hedge still fire
])
def test_a_repair_of_a_named_defect_has_a_target(summary: str, vague: bool) -> None:
    """The defect is what must be gone afterwards: "fix the bug that caused X" names its target."""
    assert assess_summary(summary).vague is vague, summary


@pytest.mark.parametrize(("summary", "vague"), [
    ("Improve the queue-depth alert so that the on-call is paged before the backlog passes a day", False),
    ("Harden the config loader to reject duplicate keys", False),
    ("Refine the failover probe to fail over automatically when the primary stops answering", False),
    ("Improve the alerting", True),
    ("Improve the alerting to catch problems earlier", True),  # a comparative is no end state
])
def test_an_improvement_bounded_by_its_end_state_is_concrete(summary: str, vague: bool) -> None:
    """'Improve X' names no bar; 'improve X so that Y is paged' says what must be true afterwards."""
    verdict = assess_summary(summary)
    assert verdict.vague is vague, (summary, verdict.codes)


@pytest.mark.parametrize("summary", [
    "Replace the top-of-rack switches in rack 4",
    "Write a troubleshooting guide for the ingest lag alert",
    "Remove the storage driver that hangs on detach",
    "Reinstate alerting for saturated uplinks and router links",
])
def test_network_hardware_guides_and_drivers_are_targets(summary: str) -> None:
    assert "no_concrete_target" not in codes(summary), summary


@pytest.mark.parametrize(("summary", "vague"), [
    ("Additional safeguards will be added to the billing export job", True),
    ("Adding improved validation for DNS zone updates", True),
    ("Deeper monitoring of the message broker", True),
    ("Additional alerting will be added to page the on-call when the export job has not run for 2 hours", False),
    ("Add extra validation to the importer, specifically rejecting rows whose currency is not ISO 4217", False),
])
def test_an_unbarred_amount_of_a_capability_is_vague(summary: str, vague: bool) -> None:
    """'Additional validation' says there will be more of it, not how much or what must hold."""
    verdict = assess_summary(summary)
    assert verdict.vague is vague, (summary, verdict.codes)
    if vague:
        assert any(r.code == "unmeasurable_goal" for r in verdict.reasons)


def test_a_code_span_is_a_name_not_prose() -> None:
    """Words inside `...` are an identifier: `safer-runner-action` holds no comparative."""
    assert not assess_summary("Add `safer-runner-action` to every workflow that checks out forks").vague
    # a batch with non-ASCII text folds quotes first; the code span must be read the same way
    frame = assess_summaries(pd.Series(["Add `better-sqlite3` to the importer’s lockfile", "Better alerts"]))
    assert frame["vague"].tolist() == [False, True]


@pytest.mark.parametrize(("summary", "vague"), [
    ("Raise an issue with the PostgreSQL developers about the WAL replay crash", False),
    ("Raise the connection limit", True),  # to what?
])
def test_raising_an_issue_files_it_and_raises_no_level(summary: str, vague: bool) -> None:
    assert assess_summary(summary).vague is vague, summary


def test_not_english_is_not_judged_and_empty_is_vague() -> None:
    german = assess_summary("Überwachung für den Datenbankserver einrichten und Alarme prüfen")
    assert (german.vague, german.verdict, german.reasons) == (False, "not judged: language", ())
    empty = assess_summary("   ")
    assert empty.vague
    assert empty.verdict == "empty"
    long = assess_summary("Add an alert on the checkout-api error rate. " * 60)
    assert not long.vague
    assert long.verdict.startswith("not judged: too long")
    assert assess_summary("Improve monitoring").verdict == "judged"


# --- round 4 (issue 12): shapes fixed against the development items only; examples written for these tests ---


@pytest.mark.parametrize(("summary", "vague"), [
    ("First, we will work on the failover story for the billing database", True),
    ("In the meantime, we will continue to watch the ingest queue", True),
    ("Going forward, we are evaluating how to change the retry logic", True),
    ("Additionally, we will pin the ingress chart to 4.10.1", False),
    ("Longer term, we will move the nightly export job to its own node pool", False),
])
def test_a_discourse_marker_does_not_hide_the_head_verb(summary: str, vague: bool) -> None:
    """'First, we will ...': the marker orders the commitment; the head verb comes after it."""
    verdict = assess_summary(summary)
    assert verdict.vague is vague, (summary, verdict.codes)
    if vague:
        assert "vague_verb" in verdict.codes


@pytest.mark.parametrize(("summary", "vague"), [
    ("We will be making a number of changes to stop the scheduler from double-booking runners", True),
    ("We will implement changes to the deploy pipeline to avoid a repeat", True),
    ("We're actively working with the CDN vendor to address this", True),
    ("We'll continue to deliver more regional caches", True),
    ("We will implement a 30 s timeout on the export job's database queries", False),
    ("Work with the DNS provider to move the zone to DNSSEC-signed records by March", False),
])
def test_narrative_changes_and_working_with_someone_to_address_it_are_vague(summary: str, vague: bool) -> None:
    """'A number of changes', 'working with X to address this': the change itself is never named."""
    verdict = assess_summary(summary)
    assert verdict.vague is vague, (summary, verdict.codes)
    if vague:
        assert "vague_verb" in verdict.codes


@pytest.mark.parametrize(("summary", "vague"), [
    ("Devise a strategy for draining the build cache", True),
    ("Come up with a process for rotating the on-call", True),
    ("Set up a policy around when to page the database team", True),
    ("Agree on a policy on which regions get canaries first", True),
    ("Come up with a 2-node quorum layout for the etcd cluster", False),
])
def test_devising_an_abstract_deliverable_is_vague(summary: str, vague: bool) -> None:
    """A strategy, process or policy with no content is no end state; 'come up with' is one verb."""
    verdict = assess_summary(summary)
    assert verdict.vague is vague, (summary, verdict.codes)
    if vague:
        assert "vague_verb" in verdict.codes


@pytest.mark.parametrize("summary", [
    "Point the status site at the secondary origin",
    "Renew all our domains a month before they lapse",
    "Send a weekly report of unacknowledged pages to the team lead",
    "Open a case with the hosting support team when a rack loses both uplinks",
    "Move the shared admin account behind SSO",
])
def test_sites_domains_reports_and_accounts_are_targets(summary: str) -> None:
    assert "no_concrete_target" not in codes(summary), summary


@pytest.mark.parametrize(("summary", "vague"), [
    ("Document the certificate renewal procedure", False),
    ("Write down the steps for promoting the standby", False),
    ("Make sure the cache warm-up steps are documented", False),
    ("Update the data center handover procedures", False),
    ("Update teams on the escalation process", True),  # telling people is not editing a procedure
    ("Better documentation", True),
])
def test_a_written_procedure_is_a_target(summary: str, vague: bool) -> None:
    """Documenting a named procedure leaves a document behind; 'update teams on a process' does not."""
    verdict = assess_summary(summary)
    assert verdict.vague is vague, (summary, verdict.codes)


@pytest.mark.parametrize(("summary", "vague"), [
    ("To stop these failures from recurring, we will set a 10 s timeout on the ledger client", False),
    ("In order to recover faster, we will add a second replica of the orders database", False),
    ("To prevent a recurrence, we will look into the problem", True),
])
def test_a_leading_purpose_clause_is_not_the_commitment(summary: str, vague: bool) -> None:
    """'To prevent X, we will Y': the commitment is Y; the purpose clause says why."""
    verdict = assess_summary(summary)
    assert verdict.vague is vague, (summary, verdict.codes)


@pytest.mark.parametrize(("summary", "vague"), [
    ("Find out how many checkout-api pods still use the v1 cache key", False),
    ("Determine how often the etcd leader changes during a deploy", False),
    ("Figure out how to monitor the critical CVEs", True),
])
def test_a_count_or_rate_question_is_not_method_seeking(summary: str, vague: bool) -> None:
    """'How many/how often' has a measurable answer; 'how to' seeks a method."""
    verdict = assess_summary(summary)
    assert verdict.vague is vague, (summary, verdict.codes)


# --- scripts/eval_vague_transformer.py: the parts that need no PyTorch ------------------------


def test_transformer_experiment_folds_keep_organisations_whole() -> None:
    module = _script("eval_vague_transformer")
    orgs = np.array(["a"] * 50 + ["b"] * 30 + ["c"] * 25 + ["d"] * 5 + ["e"] * 5)
    fold = module.organisation_folds(orgs, 2)
    for org in set(orgs):
        assert len(set(fold[orgs == org])) == 1, org  # never split across folds
    sizes = sorted(np.bincount(fold))
    assert sizes == [55, 60]  # largest first into the smallest fold


def test_transformer_experiment_refuses_mismatched_inputs(tmp_path: Path) -> None:
    module = _script("eval_vague_transformer")
    data = tmp_path / "items.csv"
    pd.DataFrame({"id": ["AI-1", "AI-2"], "org": ["a", "b"], "summary": ["Improve things", "Pin Flux to 2.3"],
                  "vague": ["true", "false"], "source_url": ["https://x", "https://y"], "note": ["", ""]}).to_csv(
        data, index=False)
    stale = tmp_path / "rules.csv"
    pd.DataFrame({"id": ["AI-1"], "org": ["a"], "vague": [True], "rules_vague": [True]}).to_csv(stale, index=False)
    with pytest.raises(SystemExit, match="does not match"):
        module.main(["--data", str(data), "--rules", str(stale)])
    rules = tmp_path / "rules-ok.csv"
    pd.DataFrame({"id": ["AI-1", "AI-2"], "org": ["a", "b"], "vague": [True, False],
                  "rules_vague": [True, False]}).to_csv(rules, index=False)
    with pytest.raises(SystemExit, match="unknown organisations"):
        module.main(["--data", str(data), "--rules", str(rules), "--held-out", "nowhere"])


def test_an_independent_rater_agrees_with_the_labels_below_the_target() -> None:
    """tests/data/README.md, "Independent labelling pass": 200 random items re-labelled by a second
    rater from the guideline alone (no labels, ids or notes shown): 90.5% agree, kappa 0.775, and the
    rater scores F1 0.843 against the labels as if they were the truth, below the 0.88 target; every
    disagreement is on an item one of the two marked borderline."""
    module = _script("eval_vague")
    labels = module.load(DEV_SET).set_index("id")
    independent = pd.read_csv(DEV_SET.parent / "action_items_independent_pass.csv", dtype=str, keep_default_na=False)
    assert len(independent) == 200
    assert independent["id"].is_unique
    assert independent["vague_independent"].isin(["true", "false"]).all()
    first = labels.loc[independent["id"], "vague"].to_numpy(dtype=bool)
    second = independent["vague_independent"].eq("true").to_numpy()
    scores = module.Scores.of(first, second)
    agree = float((first == second).mean())
    chance = first.mean() * second.mean() + (1 - first.mean()) * (1 - second.mean())
    kappa = (agree - chance) / (1 - chance)
    print(f"\nindependent rater against the labels: {scores.line()}, kappa {kappa:.3f}")
    assert (scores.tp, scores.fp, scores.fn) == (51, 6, 13)
    assert round(kappa, 3) == 0.775
    assert scores.f1 < 0.88
    borderline = (labels.loc[independent["id"], "note"].str.startswith("borderline").to_numpy()
                  | independent["note"].str.startswith("borderline").to_numpy())
    assert (first == second)[~borderline].all()
