"""The source contract, run through Great Expectations: the only module that imports it.

Each canonical entity's schema (`followthrough.model`) becomes one expectation suite:
required ids and fields, ISO 8601 timestamps, allowed values, unique ids and time order.
Rows that fail any expectation are quarantined with one reason per failed expectation;
the remaining rows are coerced to the typed canonical frames. A failing expectation is
data for the report, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from followthrough.model import BOOL_VALUES, ROW_NUMBER, EntitySchema, coerce, parse_dates, parse_timestamps

if TYPE_CHECKING:
    import pandas as pd

QUARANTINE_COLUMNS = ["entity", "row_number", "record_id", "reason_code", "reason", "raw"]


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
        if column.kind in ("timestamp", "date"):
            # a value is present but does not parse (wrong format, or no such day: 2026-06-31)
            checks.append(
                ContractCheck(
                    gxe.ExpectColumnValuesToNotBeNull(column=f"{column.name}__parsed",
                                                      row_condition=Column(column.name).is_not_null()),
                    f"unparseable_{column.kind}", column.name,
                    f"{column.name} is not a valid "
                    + ("ISO 8601 timestamp" if column.kind == "timestamp" else "YYYY-MM-DD date"),
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


def validate_entity(context: Any, schema: EntitySchema, raw: pd.DataFrame) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Run one entity's suite; return (quarantined rows, per-check summary)."""
    import great_expectations as gx
    import pandas as pd

    frame = _prepare(schema, raw)
    checks = _checks(schema)
    if frame.empty:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS), []
    for index, check in enumerate(checks):
        check.expectation.meta = {"check_index": index}
    suite = gx.ExpectationSuite(name=f"source_contract.{schema.name}", expectations=[c.expectation for c in checks])
    batch = (
        context.data_sources.add_pandas(name=f"source.{schema.name}")
        .add_dataframe_asset(name=schema.name)
        .add_batch_definition_whole_dataframe(name="export")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    result = batch.validate(
        suite,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_NUMBER]},
    )
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


def apply_source_contract(raw_frames: dict[str, pd.DataFrame], schemas: list[EntitySchema]) -> ContractResult:
    """Validate every entity; split each into typed clean rows and quarantined rows."""
    import logging

    import great_expectations as gx
    import pandas as pd

    # GX logs every batch at INFO; the task log should show our summary instead
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    clean: dict[str, pd.DataFrame] = {}
    quarantined: list[pd.DataFrame] = []
    checks: list[dict[str, Any]] = []
    for schema in schemas:
        raw = raw_frames[schema.name]
        bad, summary = validate_entity(context, schema, raw)
        checks.extend(summary)
        quarantined.append(bad)
        good_raw = raw[~raw[ROW_NUMBER].isin(bad["row_number"])]
        typed = coerce(schema, good_raw)
        extra = [c for c in raw.columns if c not in schema.column_names and c != ROW_NUMBER]
        for column in extra:  # e.g. postmortem document texts
            typed[column] = good_raw[column].to_numpy()
        clean[schema.name] = typed
    frames = [q for q in quarantined if not q.empty]
    quarantine = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    return ContractResult(clean=clean, quarantine=quarantine, checks=checks)
