import numpy as np
import pandas as pd
import pytest

from workbench.events import types as t
from workbench.events.conform import ConformOptions, conform, convert_column
from workbench.events.rejected import RejectedRows
from workbench.events.schema import Schema


def run(frame: pd.DataFrame, schema: Schema, **kwargs: object) -> tuple[pd.DataFrame, RejectedRows]:
    rejected = RejectedRows("test")
    result = conform(frame, schema, rejected, **kwargs)  # type: ignore[arg-type]
    return result, rejected


SCHEMA = Schema.of([("id", t.BIGINT), ("amount", t.DOUBLE), ("name", t.STRING)])


def test_conform_exact_dtypes_and_order() -> None:
    frame = pd.DataFrame({"name": ["a", "b"], "amount": ["1.5", "2"], "id": ["1", "2"]})
    result, rejected = run(frame, SCHEMA)
    assert list(result.columns) == ["id", "amount", "name"]
    assert str(result["id"].dtype) == "Int64"
    assert str(result["amount"].dtype) == "Float64"
    assert result["name"].dtype == pd.StringDtype("pyarrow")
    assert result["id"].tolist() == [1, 2]
    assert len(rejected) == 0


def test_conform_fresh_range_index() -> None:
    frame = pd.DataFrame({"id": ["1", "x", "3"]}, index=[10, 20, 30])
    result, _ = run(frame, SCHEMA)
    assert isinstance(result.index, pd.RangeIndex)
    assert result.index.tolist() == [0, 1]


def test_conform_missing_column_is_null() -> None:
    result, rejected = run(pd.DataFrame({"id": [1, 2]}), SCHEMA)
    assert result["amount"].isna().all()
    assert result["name"].isna().all()
    assert result["name"].dtype == pd.StringDtype("pyarrow")
    assert len(rejected) == 0


def test_conform_extra_columns_dropped() -> None:
    result, _ = run(pd.DataFrame({"id": [1], "other": ["x"]}), SCHEMA)
    assert list(result.columns) == ["id", "amount", "name"]


def test_conform_case_insensitive_match() -> None:
    result, _ = run(pd.DataFrame({"ID": ["7"], "Amount": ["1"]}), SCHEMA)
    assert result["id"].tolist() == [7]
    assert result["amount"].tolist() == [1.0]


def test_conform_exact_name_wins() -> None:
    result, _ = run(pd.DataFrame({"ID": ["7"], "id": ["8"]}), SCHEMA)
    assert result["id"].tolist() == [8]


def test_conform_rejects_with_reason_and_line() -> None:
    frame = pd.DataFrame({"id": ["1", "2"], "amount": ["abc", "2.5"]})
    result, rejected = run(frame, SCHEMA, lines=np.array([2, 3]), raw=["1,abc", "2,2.5"])
    assert result["id"].tolist() == [2]
    assert rejected.rows == [
        ("test", 2, None, "column 'amount': invalid DOUBLE value 'abc'", "1,abc")
    ]


def test_conform_offsets_recorded() -> None:
    frame = pd.DataFrame({"id": ["x"]})
    _, rejected = run(frame, SCHEMA, offsets=np.array([41]))
    assert rejected.rows[0][1] is None
    assert rejected.rows[0][2] == 41


def test_conform_raw_defaults_to_row_repr() -> None:
    frame = pd.DataFrame({"id": ["x"], "amount": [None], "name": ["n"]})
    _, rejected = run(frame, SCHEMA)
    raw = rejected.rows[0][4]
    assert raw == "{'id': 'x', 'name': 'n'}"


def test_conform_reasons_for_every_failing_column() -> None:
    frame = pd.DataFrame({"id": ["x"], "amount": ["y"]})
    _, rejected = run(frame, SCHEMA)
    assert rejected.rows[0][3] == (
        "column 'id': invalid BIGINT value 'x'; column 'amount': invalid DOUBLE value 'y'"
    )


def test_conform_not_null_rejects_null() -> None:
    schema = Schema.of([("id", t.BIGINT.with_nullable(False)), ("name", t.STRING)])
    result, rejected = run(pd.DataFrame({"id": ["1", None, ""], "name": ["a", "b", "c"]}), schema)
    assert result["name"].tolist() == ["a"]
    assert [row[3] for row in rejected.rows] == [
        "column 'id': NULL in a NOT NULL column of type BIGINT",
        "column 'id': NULL in a NOT NULL column of type BIGINT",
    ]


def test_conform_not_null_missing_column_rejects_all() -> None:
    schema = Schema.of([("id", t.BIGINT.with_nullable(False))])
    result, rejected = run(pd.DataFrame({"other": [1, 2]}), schema)
    assert len(result) == 0
    assert len(rejected) == 2


def test_conform_empty_frame_keeps_types() -> None:
    result, _ = run(pd.DataFrame({"id": pd.Series([], dtype=object)}), SCHEMA)
    assert len(result) == 0
    assert str(result["id"].dtype) == "Int64"
    assert str(result["amount"].dtype) == "Float64"


def test_conform_typed_frame_passes_through() -> None:
    frame = pd.DataFrame(
        {
            "id": pd.array([1, None], dtype="Int64"),
            "amount": pd.array([1.5, 2.5], dtype="Float64"),
            "name": pd.array(["a", None], dtype=pd.StringDtype("pyarrow")),
        }
    )
    result, rejected = run(frame, SCHEMA)
    pd.testing.assert_frame_equal(result, frame)
    assert len(rejected) == 0


def test_conform_mixed_json_values() -> None:
    frame = pd.DataFrame({"id": pd.Series([1, "2", "abc", None, 2.0], dtype=object)})
    result, rejected = run(frame, SCHEMA)
    assert result["id"].tolist() == [1, 2, pd.NA, 2]
    assert rejected.rows[0][3] == "column 'id': invalid BIGINT value 'abc'"


def test_conform_options_time_zone() -> None:
    schema = Schema.of([("ts", t.timestamp_ltz(3))])
    frame = pd.DataFrame({"ts": ["2020-06-01 12:00:00"]})
    options = ConformOptions(time_zone="Europe/Berlin")
    result, _ = run(frame, schema, options=options)
    assert result["ts"][0] == pd.Timestamp("2020-06-01 10:00:00", tz="UTC")


def test_conform_long_raw_is_cut() -> None:
    frame = pd.DataFrame({"id": ["x"]})
    _, rejected = run(frame, SCHEMA, raw=["y" * 5000])
    assert len(rejected.rows[0][4]) == 1000


@pytest.mark.parametrize(
    ("values", "dtype", "expected"),
    [
        (["1", "2"], t.INT, "Int32"),
        (["1.5"], t.FLOAT, "Float32"),
        (["true"], t.BOOLEAN, "boolean"),
        (["2020-01-01"], t.DATE, "datetime64[ns]"),
        (["10:00"], t.TIME, "timedelta64[ns]"),
        (["2020-01-01 00:00:00"], t.timestamp(3), "datetime64[ns]"),
        (["2020-01-01 00:00:00"], t.timestamp_ltz(3), "datetime64[ns, UTC]"),
        (["[1]"], t.array(t.INT), "object"),
    ],
)
def test_convert_column_dtype(values: list[str], dtype: t.DataType, expected: str) -> None:
    conversion = convert_column(pd.Series(values), dtype, ConformOptions())
    assert str(conversion.values.dtype) == expected
    assert not conversion.failed.any()


def test_conform_rejects_container_value_row() -> None:
    schema = Schema.of([("id", t.BIGINT), ("tags", t.map_of(t.STRING, t.STRING))])
    tags = np.empty(4, dtype=object)
    tags[0] = {"env": "prod"}
    tags[1] = pd.Series({"env": 1})
    tags[2] = pd.Series([], dtype=object)
    tags[3] = np.array([1, 2])
    extra = np.empty(4, dtype=object)
    extra[:] = [[1], {"k": 1}, pd.NA, np.array([1.0])]
    frame = pd.DataFrame({"id": ["1", "x", "3", "4"], "tags": tags, "extra": extra})

    result, rejected = run(frame, schema)

    assert result["id"].tolist() == [1]
    assert result["tags"].tolist() == [{"env": "prod"}]
    reasons = rejected.to_pandas()["reason"].tolist()
    assert len(reasons) == 3
    assert "column 'id': invalid BIGINT value 'x'" in reasons[0]
    assert "column 'tags': invalid MAP<STRING, STRING> value" in reasons[0]
    assert "Series([], dtype: object)" in reasons[1]
    assert "array([1, 2])" in reasons[2]
    raw = rejected.to_pandas()["raw"].tolist()
    assert "'extra': {'k': 1}" in raw[0]
    assert "'extra'" not in raw[1]
