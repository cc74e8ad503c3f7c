"""Great Expectations adapter: the only module that imports it.

Two suites run here, each rendered into the run's Data Docs
(`<report folder>/data_docs/source_contract/index.html` and `.../followup/index.html`):

- **Source contract**, one suite per canonical entity, built from its schema
  (`followthrough.model`): required ids and fields, ISO 8601 timestamps and dates, allowed
  values, unique ids, time order. Rows that fail are quarantined with one reason per failed
  expectation (per-row ids come back from GE); the rest are coerced to typed frames.
- **Follow-up suite**, one expectation per rule over a compact table of rule outcomes per
  team (`rule_outcomes`): "no team has open violations of RULE". The rules themselves are
  vectorised pandas (`followthrough.rules`): GE at one row per action item costs about 40
  times the same check in pandas, so GE validates and documents the per-team outcomes
  instead, and its counts are cross-checked against the findings.

A failing expectation is data for the report, never an exception; an expectation that
could not run at all is a broken pipeline and raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from followthrough.model import (
    BOOL_VALUES,
    EARLIEST,
    LATEST,
    ROW_NUMBER,
    EntitySchema,
    coerce,
    parse_dates,
    parse_timestamps,
    parse_timezones,
)

if TYPE_CHECKING:
    import pandas as pd

QUARANTINE_COLUMNS = ["entity", "row_number", "record_id", "reason_code", "reason", "raw"]
# control characters, zero-width and joiner characters, direction marks and overrides, BOM
INVISIBLE = "[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
_UNPARSEABLE = {"timestamp": "unparseable_timestamp", "date": "unparseable_date", "timezone": "unknown_timezone"}
_EXPECTED = {"timestamp": f"an ISO 8601 timestamp with a UTC offset, from {EARLIEST} to {LATEST}",
             "date": f"a valid YYYY-MM-DD date from {EARLIEST} to {LATEST}",
             "timezone": "an IANA time zone name"}
DOCS_SITE = "followthrough"


@dataclass(frozen=True)
class ContractCheck:
    """One expectation and how to explain a row that fails it."""

    expectation: Any
    reason_code: str
    column: str
    explain: str


@dataclass
class ContractResult:
    clean: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    # expectation type, column, failing row count: for the report
    checks: list[dict[str, Any]]


def _prepare(schema: EntitySchema, raw: pd.DataFrame) -> pd.DataFrame:
    """Raw strings with blanks as nulls, plus parsed helper columns the expectations read."""
    import pandas as pd

    frame = raw.copy()
    for name in schema.column_names:
        frame[name] = frame[name].astype("string").str.strip().replace("", pd.NA)
    for column in schema.columns_of_kind("timestamp"):
        frame[f"{column.name}__parsed"] = parse_timestamps(frame[column.name])
    for column in schema.columns_of_kind("date"):
        frame[f"{column.name}__parsed"] = parse_dates(frame[column.name])
    for column in schema.columns_of_kind("timezone"):
        frame[f"{column.name}__parsed"] = parse_timezones(frame[column.name])
    for column in schema.columns_of_kind("bool"):
        frame[column.name] = frame[column.name].str.lower()
    return frame


def _checks(schema: EntitySchema) -> list[ContractCheck]:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    checks: list[ContractCheck] = []
    for column in schema.columns:
        if column.required:
            reason = "missing_id" if column.name == schema.id_column else "missing_value"
            checks.append(
                ContractCheck(gxe.ExpectColumnValuesToNotBeNull(column=column.name), reason, column.name,
                              f"required field {column.name} is empty")
            )
        if column.kind in ("timestamp", "date", "timezone"):
            # a value is present but does not parse (wrong format, no such day: 2026-06-31, a
            # timestamp without its UTC offset, a time zone that does not exist)
            checks.append(
                ContractCheck(
                    gxe.ExpectColumnValuesToNotBeNull(column=f"{column.name}__parsed",
                                                      row_condition=Column(column.name).is_not_null()),
                    _UNPARSEABLE[column.kind], column.name, f"{column.name} is not {_EXPECTED[column.kind]}",
                )
            )
        elif column.kind == "enum":
            checks.append(
                ContractCheck(gxe.ExpectColumnValuesToBeInSet(column=column.name, value_set=list(column.allowed)),
                              "unknown_value", column.name,
                              f"{column.name} is not one of {', '.join(column.allowed)}")
            )
        elif column.kind == "bool":
            checks.append(
                ContractCheck(gxe.ExpectColumnValuesToBeInSet(column=column.name, value_set=list(BOOL_VALUES)),
                              "unknown_value", column.name, f"{column.name} is not true or false")
            )
    checks.append(
        ContractCheck(gxe.ExpectColumnValuesToNotMatchRegex(column=schema.id_column, regex=INVISIBLE),
                      "invisible_character", schema.id_column,
                      f"{schema.id_column} holds an invisible or control character (zero-width space, "
                      "direction mark, ...): it would look like another id")
    )
    checks.append(
        ContractCheck(gxe.ExpectColumnValuesToBeUnique(column=schema.id_column), "duplicate_id",
                      schema.id_column, f"{schema.id_column} is not unique in this export")
    )
    for later, earlier in schema.time_order:
        checks.append(
            ContractCheck(
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A=f"{later}__parsed", column_B=f"{earlier}__parsed", or_equal=True,
                    ignore_row_if="either_value_is_missing",
                ),
                "time_order", later, f"{later} is before {earlier}",
            )
        )
    return checks


def run_context(docs_folder: Path | None = None) -> Any:
    """An ephemeral GX context; with a folder, its Data Docs site is built there."""
    import logging

    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX logs every batch at INFO; the task log should show our summary instead
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if docs_folder is not None:
        context.add_data_docs_site(site_name=DOCS_SITE, site_config={
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_folder)},
        })
    return context


def _run_suite(context: Any, name: str, frame: pd.DataFrame, expectations: list[Any], index_columns: list[str],
               docs: bool) -> Any:
    """Validate a frame with a suite through a checkpoint (which renders Data Docs when asked)."""
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    batch_definition = (
        context.data_sources.add_pandas(name=name).add_dataframe_asset(name=name)
        .add_batch_definition_whole_dataframe(name="run")
    )
    suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch_definition,
                                                                            suite=suite))
    actions: list[Any] = [UpdateDataDocsAction(name="data_docs", site_names=[DOCS_SITE])] if docs else []
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name=name, validation_definitions=[definition], actions=actions,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": index_columns},
    ))
    result = checkpoint.run(batch_parameters={"dataframe": frame})
    if docs:
        _docs_offline(context)
    return next(iter(result.run_results.values()))


def build_docs(context: Any) -> None:
    """Render the Data Docs site once for every validation run so far in this context.

    The source contract validates each entity without rendering and builds the site here, once:
    GE renders the whole site (index and every page, compiling its templates again) on each
    checkpoint's UpdateDataDocsAction, so per-entity rendering cost eight site builds.
    """
    context.build_data_docs(site_names=[DOCS_SITE])
    _docs_offline(context)


def _docs_offline(context: Any) -> None:
    """Rewrite the built Data Docs so they read offline (GE's pages load their CSS and JS from CDNs)."""
    from urllib.parse import unquote, urlsplit

    from followthrough.report.data_docs import make_offline

    for site in context.get_docs_sites_urls(site_name=DOCS_SITE):
        url = urlsplit(str(site.get("site_url") or ""))
        if url.scheme == "file":
            make_offline(Path(unquote(url.path)).parent)


def validate_entity(context: Any, schema: EntitySchema, raw: pd.DataFrame,
                    docs: bool = False) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Run one entity's suite; return (quarantined rows, per-check summary)."""
    import pandas as pd

    frame = _prepare(schema, raw)
    checks = _checks(schema)
    if frame.empty:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS), []
    for index, check in enumerate(checks):
        check.expectation.meta = {"check_index": index}
    result = _run_suite(context, f"source_contract.{schema.name}", frame, [c.expectation for c in checks],
                        [ROW_NUMBER], docs)
    by_row = frame.set_index(ROW_NUMBER)
    rows: list[dict[str, Any]] = []
    summary: list[dict[str, Any]] = []
    for outcome in result.results:
        check = checks[int(outcome.expectation_config.meta["check_index"])]
        if _raised(outcome):
            raise RuntimeError(f"source contract check {check.reason_code} on {schema.name}.{check.column} "
                               f"could not run: {outcome.exception_info}")
        failing = [int(entry[ROW_NUMBER]) for entry in outcome.result.get("unexpected_index_list") or []]
        summary.append({"entity": schema.name, "expectation": outcome.expectation_config.type,
                        "column": check.column, "failing_rows": len(failing)})
        for row_number in failing:
            value = by_row.at[row_number, check.column]
            record_id = by_row.at[row_number, schema.id_column]
            shown = "" if pd.isna(value) else f": {str(value)[:80]!r}"
            rows.append({
                "entity": schema.name,
                "row_number": row_number,
                "record_id": "" if pd.isna(record_id) else str(record_id),
                "reason_code": check.reason_code,
                "reason": check.explain + shown,
                "raw": {c: ("" if pd.isna(raw_v) else str(raw_v))
                        for c, raw_v in raw.loc[raw[ROW_NUMBER] == row_number, schema.column_names].iloc[0].items()},
            })
    return pd.DataFrame(rows, columns=QUARANTINE_COLUMNS), summary


def _raised(outcome: Any) -> bool:
    info = outcome.exception_info or {}
    if "raised_exception" in info:
        return bool(info["raised_exception"])
    return any(v.get("raised_exception") for v in info.values() if isinstance(v, dict))


def apply_source_contract(raw_frames: dict[str, pd.DataFrame], schemas: list[EntitySchema],
                          docs_folder: Path | None = None) -> ContractResult:
    """Validate every entity; split each into typed clean rows and quarantined rows."""
    import pandas as pd

    context = run_context(docs_folder)
    clean: dict[str, pd.DataFrame] = {}
    quarantined: list[pd.DataFrame] = []
    checks: list[dict[str, Any]] = []
    for schema in schemas:
        raw = raw_frames[schema.name]
        bad, summary = validate_entity(context, schema, raw)  # the site is built once, below
        checks.extend(summary)
        quarantined.append(bad)
        good_raw = raw[~raw[ROW_NUMBER].isin(bad["row_number"])]
        typed = coerce(schema, good_raw)
        extra = [c for c in raw.columns if c not in schema.column_names and c != ROW_NUMBER]
        for column in extra:  # e.g. postmortem document texts
            typed[column] = good_raw[column].to_numpy()
        clean[schema.name] = typed
    if docs_folder is not None:
        build_docs(context)
    frames = [q for q in quarantined if not q.empty]
    quarantine = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    return ContractResult(clean=clean, quarantine=quarantine, checks=checks)


def rule_outcomes(findings: pd.DataFrame, rule_ids: list[str], teams: list[str]) -> pd.DataFrame:
    """Open violations and warnings per (rule, team): the table the follow-up suite checks."""
    import pandas as pd

    index = pd.MultiIndex.from_product([rule_ids, sorted(set(teams) | {"(no team)"})], names=["rule", "team_id"])
    frame = findings.assign(team_id=findings["team_id"].fillna("(no team)").astype(str))
    counts = frame.groupby(["rule", "team_id", "level"]).size().unstack("level", fill_value=0)
    counts = counts.reindex(index, fill_value=0)
    outcomes = pd.DataFrame({
        "violations": counts.get("violation", 0),
        "warnings": counts.get("warning", 0),
    }, index=index).reset_index()
    return outcomes.astype({"violations": "int64", "warnings": "int64"})


@dataclass
class FollowupResult:
    outcomes: pd.DataFrame
    # rule -> teams GE found with open violations
    failing_teams: dict[str, list[str]]


def validate_followup(findings: pd.DataFrame, rule_ids: list[str], teams: list[str],
                      docs_folder: Path | None = None) -> FollowupResult:
    """Document the follow-up rules' outcomes with GE and cross-check them against the findings."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    outcomes = rule_outcomes(findings, rule_ids, teams)
    expectations = [
        gxe.ExpectColumnValuesToBeBetween(
            column="violations", min_value=0, max_value=0, row_condition=Column("rule") == rule,
            meta={"rule": rule}, description=f"{rule}: no team has open violations",
        )
        for rule in rule_ids
    ]
    context = run_context(docs_folder)
    result = _run_suite(context, "followup", outcomes, expectations, ["rule", "team_id"], docs_folder is not None)
    failing: dict[str, list[str]] = {}
    for outcome in result.results:
        rule = outcome.expectation_config.meta["rule"]
        if _raised(outcome):
            raise RuntimeError(f"follow-up expectation for {rule} could not run: {outcome.exception_info}")
        failing[rule] = sorted(str(e["team_id"]) for e in outcome.result.get("unexpected_index_list") or [])
    expected = {r: sorted(outcomes.loc[(outcomes["rule"] == r) & (outcomes["violations"] > 0), "team_id"])
                for r in rule_ids}
    if failing != expected:
        raise RuntimeError(f"Great Expectations and the rule findings disagree: {failing} != {expected}")
    return FollowupResult(outcomes=outcomes, failing_teams=failing)
