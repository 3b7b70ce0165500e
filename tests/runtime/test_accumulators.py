"""Every aggregate function: through SQL per group and per window, and merging partial states."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tests.support.streams import at, query, records, session_with, stamp
from workbench.events import types as t
from workbench.events.types import DataType
from workbench.runtime.accumulators import make_accumulator
from workbench.sql.aggregates import infer_aggregate_type
from workbench.sql.plan import AggCall

# Two groups of four rows. Group 'a': v = 1, 2, NULL, 6; group 'b': v = 3, 4, 7, 8.
ROWS = pd.DataFrame(
    {
        "ts": at(1, 2, 3, 4, 5, 6, 7, 8),
        "k": ["a", "a", "b", "b", "a", "a", "b", "b"],
        "v": pd.array([1, 2, 3, 4, None, 6, 7, 8], dtype="Int64"),
        "d": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5],
        "s": pd.array(["p", None, "q", "r", "p", "s", None, "t"], dtype="string"),
        "b": pd.array([True, False, None, True, True, True, None, False], dtype="boolean"),
    }
)

GROUPED = "SELECT k, {call} AS x FROM rows GROUP BY k"
WINDOWED = (
    "SELECT k, {call} AS x FROM TABLE(TUMBLE(TABLE rows, DESCRIPTOR(ts), INTERVAL '1' HOUR)) "
    "GROUP BY k, window_start, window_end"
)

# (aggregate call, value for group 'a', value for group 'b'), worked out by hand from ROWS.
CASES = [
    ("COUNT(*)", 4, 4),
    ("COUNT(1)", 4, 4),
    ("COUNT(v)", 3, 4),
    ("COUNT(s)", 3, 3),
    ("COUNT(DISTINCT s)", 2, 3),
    ("SUM(v)", 9, 22),
    ("SUM(d)", 16.0, 24.0),
    ("SUM(DISTINCT v)", 9, 22),
    ("AVG(v)", 3.0, 5.5),
    ("AVG(d)", 4.0, 6.0),
    ("MIN(v)", 1, 3),
    ("MAX(v)", 6, 8),
    ("MIN(d)", 1.5, 3.5),
    ("MAX(d)", 6.5, 8.5),
    ("MIN(s)", "p", "q"),
    ("MAX(s)", "s", "t"),
    ("MIN(ts)", stamp(1), stamp(3)),
    ("MAX(ts)", stamp(6), stamp(8)),
    ("STDDEV_POP(v)", math.sqrt(14 / 3), math.sqrt(17 / 4)),
    ("STDDEV_SAMP(v)", math.sqrt(7), math.sqrt(17 / 3)),
    ("STDDEV(v)", math.sqrt(7), math.sqrt(17 / 3)),
    ("VAR_POP(v)", 14 / 3, 17 / 4),
    ("VAR_SAMP(v)", 7.0, 17 / 3),
    ("VARIANCE(v)", 7.0, 17 / 3),
    ("FIRST_VALUE(v)", 1, 3),
    ("LAST_VALUE(v)", 6, 8),
    ("FIRST_VALUE(s)", "p", "q"),
    ("LAST_VALUE(s)", "s", "t"),
    ("LISTAGG(s)", "p,p,s", "q,r,t"),
    ("LISTAGG(s, '|')", "p|p|s", "q|r|t"),
    ("LISTAGG(s, '')", "pps", "qrt"),
    ("PERCENTILE(v, 0.5)", 2.0, 5.5),
    ("PERCENTILE(v, 0.25)", 1.5, 3.75),
    ("PERCENTILE(d, 1.0)", 6.5, 8.5),
    ("ARRAY_AGG(v)", [1, 2, None, 6], [3, 4, 7, 8]),
    ("BOOL_AND(b)", False, False),
    ("BOOL_OR(b)", True, True),
    ("BOOL_AND(v > 0)", True, True),
    ("BOOL_OR(v > 6)", False, True),
    ("COUNT(*) FILTER (WHERE v > 1)", 2, 4),
    ("SUM(v) FILTER (WHERE d > 2)", 8, 22),
    ("COUNT(DISTINCT s) FILTER (WHERE b)", 2, 1),
]


def by_group(frame: pd.DataFrame) -> dict[str, object]:
    return {key: value for key, value in records(frame, ["k", "x"])}


def expect(value: object) -> object:
    return pytest.approx(value) if isinstance(value, float) else value


@pytest.mark.parametrize("shape", [GROUPED, WINDOWED], ids=["group", "window"])
@pytest.mark.parametrize(("call", "a", "b"), CASES, ids=[case[0] for case in CASES])
def test_aggregate(shape: str, call: str, a: object, b: object) -> None:
    session = session_with({"rows": ROWS})

    result = by_group(query(session, shape.format(call=call)).to_pandas())

    assert result["a"] == expect(a)
    assert result["b"] == expect(b)


def test_avg_of_integers_is_double() -> None:
    session = session_with({"rows": ROWS})

    frame = query(session, "SELECT AVG(v) AS x FROM rows").to_pandas()

    assert str(frame["x"].dtype) == "Float64"


def test_min_string_keeps_type() -> None:
    session = session_with({"rows": ROWS})

    frame = query(session, "SELECT MIN(s) AS x FROM rows").to_pandas()

    assert pd.api.types.is_string_dtype(frame["x"].dtype)


def test_min_timestamp_keeps_type() -> None:
    session = session_with({"rows": ROWS})

    frame = query(session, "SELECT MAX(ts) AS x FROM rows").to_pandas()

    assert str(frame["x"].dtype) == "datetime64[ns]"


def test_sample_deviation_of_one_value_null() -> None:
    session = session_with({"rows": ROWS})

    frame = query(
        session,
        "SELECT STDDEV_SAMP(v) AS s, VAR_SAMP(v) AS v, STDDEV_POP(v) AS p FROM rows WHERE v = 1",
    ).to_pandas()

    assert records(frame) == [(None, None, 0.0)]


def test_all_null_group() -> None:
    session = session_with({"rows": ROWS})

    frame = query(
        session,
        "SELECT COUNT(v) AS c, SUM(v) AS s, MIN(v) AS lo, FIRST_VALUE(v) AS f, "
        "LISTAGG(s) AS l, BOOL_OR(b) AS o FROM rows WHERE v IS NULL",
    ).to_pandas()

    assert records(frame) == [(0, None, None, None, "p", True)]


def test_first_value_skips_leading_null() -> None:
    frame = pd.DataFrame({"ts": at(1, 2, 3), "v": pd.array([None, 5, None], dtype="Int64")})
    session = session_with({"rows": frame})

    result = query(session, "SELECT FIRST_VALUE(v) AS f, LAST_VALUE(v) AS l FROM rows")

    assert records(result.to_pandas()) == [(5, 5)]


def test_first_value_by_arrival_not_time() -> None:
    frame = pd.DataFrame({"ts": at(5, 1), "v": [50, 10]})
    session = session_with({"rows": frame}, delay="10 s")

    result = query(session, "SELECT FIRST_VALUE(v) AS f, LAST_VALUE(v) AS l FROM rows")

    assert records(result.to_pandas()) == [(50, 10)]


def test_listagg_distinct_keeps_first_order() -> None:
    session = session_with({"rows": ROWS})

    frame = query(session, "SELECT LISTAGG(DISTINCT s) AS x FROM rows WHERE k = 'a'").to_pandas()

    assert records(frame) == [("p,s",)]


def test_approx_percentile_close_to_exact() -> None:
    frame = pd.DataFrame({"ts": at(*range(1000)), "v": np.arange(1, 1001, dtype=np.int64)})
    session = session_with({"rows": frame})

    result = query(
        session,
        "SELECT APPROX_PERCENTILE(v, 0.5) AS median, APPROX_PERCENTILE(v, 0.9) AS p90 FROM rows",
    )
    median, p90 = records(result.to_pandas())[0]

    # A KLL sketch with k = 200 keeps the rank error near 1.65 %: about 17 of 1,000 ranks.
    assert abs(median - 500) <= 25
    assert abs(p90 - 900) <= 25


def test_approx_percentile_returns_seen_value() -> None:
    session = session_with({"rows": ROWS})

    frame = query(session, "SELECT APPROX_PERCENTILE(d, 0.5) AS x FROM rows").to_pandas()

    assert frame["x"].iloc[0] in set(ROWS["d"])


def test_percentile_needs_fraction() -> None:
    from workbench.errors import TypeMismatchError

    session = session_with({"rows": ROWS})

    with pytest.raises(TypeMismatchError, match="between 0 and 1"):
        session.sql("SELECT PERCENTILE(v, 50) FROM rows")


def test_bool_and_ignores_nulls() -> None:
    frame = pd.DataFrame({"ts": at(1, 2), "b": pd.array([True, None], dtype="boolean")})
    session = session_with({"rows": frame})

    result = query(session, "SELECT BOOL_AND(b) AS a, BOOL_OR(b) AS o FROM rows")

    assert records(result.to_pandas()) == [(True, True)]


# Merging partial states, as session windows do -------------------------------------------


def accumulate(function: str, kind: DataType, parts: list[list[object]], **options: object):
    """Fold each part into its own slot, merge every slot into slot 0, return slot 0's result."""
    constants = tuple(options.get("constants", ()))
    distinct = bool(options.get("distinct", False))
    call = AggCall(
        function,
        ("x",),
        "out",
        infer_aggregate_type(function, [kind], constants),
        distinct,
        None,
        constants,
    )
    accumulator = make_accumulator(call, [kind])
    accumulator.grow(8)
    accumulator.clear(np.arange(8))
    sequence = 0
    for slot, values in enumerate(parts):
        series = pd.Series(values, dtype=kind.pandas_dtype())
        numbers = np.arange(sequence, sequence + len(values), dtype=np.int64)
        sequence += len(values)
        accumulator.update(np.full(len(values), slot, dtype=np.int64), [series], numbers)
    for slot in range(1, len(parts)):
        accumulator.merge(np.array([0]), np.array([slot]))
    return accumulator.result(np.array([0])).iloc[0]


MERGES = [
    ("COUNT", t.BIGINT, {}, 4),
    ("SUM", t.BIGINT, {}, 15),
    ("AVG", t.BIGINT, {}, 3.75),
    ("MIN", t.BIGINT, {}, 1),
    ("MAX", t.BIGINT, {}, 7),
    ("VAR_POP", t.DOUBLE, {}, 5.6875),
    ("STDDEV_SAMP", t.DOUBLE, {}, math.sqrt(22.75 / 3)),
    ("FIRST_VALUE", t.BIGINT, {}, 5),
    ("LAST_VALUE", t.BIGINT, {}, 7),
    ("ARRAY_AGG", t.BIGINT, {}, [5, 1, 2, 7]),
    ("PERCENTILE", t.BIGINT, {"constants": (0.5,)}, 3.5),
    ("COUNT", t.BIGINT, {"distinct": True}, 4),
]


@pytest.mark.parametrize(
    ("function", "kind", "options", "expected"),
    MERGES,
    ids=[f"{case[0]}{'-distinct' if case[2].get('distinct') else ''}" for case in MERGES],
)
def test_merge_equals_one_pass(
    function: str, kind: DataType, options: dict[str, object], expected: object
) -> None:
    parts: list[list[object]] = [[5, 1], [2, 7]]

    merged = accumulate(function, kind, parts, **options)
    single = accumulate(function, kind, [[5, 1, 2, 7]], **options)

    assert records(pd.DataFrame({"x": [merged]})) == records(pd.DataFrame({"x": [single]}))
    assert records(pd.DataFrame({"x": [merged]}))[0][0] == expect(expected)


def test_merge_listagg_keeps_arrival_order() -> None:
    merged = accumulate("LISTAGG", t.STRING, [["c", "a"], ["b"]])

    assert merged == "c,a,b"


def test_merge_into_empty_slot() -> None:
    merged = accumulate("MAX", t.BIGINT, [[], [4, 9]])

    assert merged == 9


def test_merge_bool_and() -> None:
    merged = accumulate("BOOL_AND", t.BOOLEAN, [[True], [False]])

    assert not merged


def test_merge_approx_percentile() -> None:
    merged = accumulate("APPROX_PERCENTILE", t.DOUBLE, [[1.0, 2.0], [3.0]], constants=(1.0,))

    assert merged == 3.0


def test_clear_resets_slot() -> None:
    call = AggCall("SUM", ("x",), "out", t.BIGINT)
    accumulator = make_accumulator(call, [t.BIGINT])
    accumulator.grow(2)
    accumulator.clear(np.arange(2))
    accumulator.update(np.array([0]), [pd.Series([5], dtype="Int64")], np.array([0]))

    accumulator.clear(np.array([0]))

    assert accumulator.result(np.array([0])).isna().all()
