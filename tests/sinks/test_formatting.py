import pandas as pd
import pytest

from workbench.errors import SinkError
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.sinks.formatting import (
    json_text,
    python_column,
    select_columns,
    text_column,
    time_text,
    timestamp_text,
)


def stamps(*values: str | None) -> pd.Series:
    return pd.Series(list(values), dtype="datetime64[ns]")


@pytest.mark.parametrize(
    ("precision", "expected"),
    [
        (0, "2020-01-01 10:00:00"),
        (2, "2020-01-01 10:00:00.12"),
        (3, "2020-01-01 10:00:00.123"),
        (6, "2020-01-01 10:00:00.123456"),
        (9, "2020-01-01 10:00:00.123456789"),
    ],
)
def test_timestamp_text_precision(precision: int, expected: str) -> None:
    text = timestamp_text(stamps("2020-01-01 10:00:00.123456789"), t.timestamp(precision))
    assert text.to_pylist() == [expected]


def test_timestamp_text_ltz_in_utc() -> None:
    values = stamps("2020-01-01 10:00:00").dt.tz_localize("Europe/Berlin")
    assert timestamp_text(values, t.timestamp_ltz(3)).to_pylist() == ["2020-01-01 09:00:00.000Z"]


def test_timestamp_text_null() -> None:
    assert timestamp_text(stamps(None), t.timestamp(3)).to_pylist() == [None]


def test_time_text() -> None:
    values = pd.Series(pd.to_timedelta(["10:30:00.25", None]))
    assert time_text(values, t.TIME).to_pylist() == ["10:30:00", None]


def test_text_column_nested_as_json() -> None:
    values = pd.Series([{"a": [1, 2]}, None], dtype=object)
    assert text_column(values, t.row([("a", t.array(t.INT))])).to_pylist() == ['{"a":[1,2]}', None]


def test_text_column_binary_as_base64() -> None:
    values = pd.Series([b"\x00\x01", None], dtype=object)
    assert text_column(values, t.BINARY).to_pylist() == ["AAE=", None]


def test_json_text_nested_timestamp() -> None:
    assert (
        json_text({"t": pd.Timestamp("2020-01-01 10:00:00")}) == '{"t":"2020-01-01 10:00:00.000"}'
    )
    assert json_text({1: pd.Timestamp("2020-01-01 10:00:00.0000001")}) == (
        '{"1":"2020-01-01 10:00:00.000000100"}'
    )


def test_python_column_nulls_and_floats() -> None:
    values = pd.Series(pd.array([1.5, None], dtype="Float64"))
    assert python_column(values, t.DOUBLE, nested_as_text=False) == [1.5, None]
    ints = pd.Series(pd.array([1, None], dtype="Int64"))
    assert python_column(ints, t.BIGINT, nested_as_text=False) == [1, None]


def test_select_columns_orders_and_matches_case() -> None:
    schema = Schema.of([("a", t.INT), ("b", t.INT)])
    frame = pd.DataFrame({"B": [2], "a": [1], "c": [3]})
    selected = select_columns(frame, schema, "out")
    assert list(selected.columns) == ["a", "b"]
    assert selected.iloc[0].tolist() == [1, 2]


def test_select_columns_missing() -> None:
    schema = Schema.of([("a", t.INT), ("b", t.INT)])
    with pytest.raises(SinkError, match="sink 'out': the rows lack the columns b; they have a"):
        select_columns(pd.DataFrame({"a": [1]}), schema, "out")
