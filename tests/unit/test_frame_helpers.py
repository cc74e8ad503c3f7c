"""model.is_in and model.records: faster forms of pandas' isin and to_dict("records"), with the same results."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from followthrough.model import is_in, records


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "text": pd.Series(["a", None, "ü"], dtype="str"),
        "nullable": pd.Series(["x", pd.NA, "z"], dtype="string"),
        "number": [1, 2, 3],
        "real": [1.5, np.nan, 0.0],
        "flag": [True, False, True],
        "when": pd.to_datetime(["2026-07-15T10:00Z", None, "2026-01-01T00:00Z"], utc=True),
        "naive": pd.to_datetime(["2026-07-15T10:00", "2026-07-16T00:00", None]),
        "json": [{"a": [1, 2]}, None, {}],
        "mixed": ["s", 2, None],
        "count": pd.Series([1, None, 3], dtype="Int64"),
        "maybe": pd.Series([True, None, False], dtype="boolean"),
    })


def _same(left: object, right: object) -> bool:
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left) and math.isnan(right):
        return True
    if left is pd.NA or right is pd.NA or left is pd.NaT or right is pd.NaT:
        return left is right
    return type(left) is type(right) and left == right


@pytest.mark.parametrize("rows", [slice(None), slice(0, 0), slice(1, 3)])
def test_records_gives_what_to_dict_gives(rows: slice) -> None:
    frame = _frame().iloc[rows]
    expected, got = frame.to_dict("records"), records(frame)
    assert len(got) == len(expected)
    for want, have in zip(expected, got, strict=True):
        assert list(have) == list(want)
        assert all(_same(want[c], have[c]) for c in want), (want, have)


@pytest.mark.parametrize("dtype", ["str", "string", "object"])
@pytest.mark.parametrize("allowed", [
    ["b", "d"], {"b", "d"}, ("b",), [], ["b", None], [1, "b"],
])
def test_is_in_agrees_with_isin_except_that_missing_is_never_a_member(dtype: str, allowed: object) -> None:
    values = pd.Series(["a", "b", None, "d", "b"], dtype=dtype, index=[10, 11, 12, 13, 14])
    for form in (allowed, pd.Series(list(allowed)), pd.Index(list(allowed))):  # type: ignore[call-overload]
        got = is_in(values, form)
        expected = values.isin(list(allowed)) & values.notna()  # type: ignore[call-overload]
        assert got.dtype == bool
        assert list(got.index) == list(values.index)
        assert got.tolist() == expected.tolist(), (dtype, allowed, form)


def test_is_in_over_large_arrow_id_sets() -> None:
    ids = pd.Series([f"AI-{i}" for i in range(50_000)], dtype="str")
    allowed = pd.Series([f"AI-{i}" for i in range(0, 60_000, 3)], dtype="str")
    assert is_in(ids, allowed).tolist() == ids.isin(allowed).tolist()
    assert int(is_in(ids, allowed).sum()) == 16_667
