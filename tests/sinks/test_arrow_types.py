import pandas as pd
import pyarrow as pa
import pytest

from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.sinks.arrow_types import arrow_column, arrow_schema, arrow_table, arrow_type


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (t.BOOLEAN, pa.bool_()),
        (t.INT, pa.int32()),
        (t.FLOAT, pa.float32()),
        (t.STRING, pa.string()),
        (t.decimal(12, 3), pa.decimal128(12, 3)),
        (t.timestamp(0), pa.timestamp("s")),
        (t.timestamp(3), pa.timestamp("ms")),
        (t.timestamp(6), pa.timestamp("us")),
        (t.timestamp(9), pa.timestamp("ns")),
        (t.timestamp_ltz(3), pa.timestamp("ms", tz="UTC")),
        (t.DATE, pa.date32()),
        (t.TIME, pa.time32("s")),
        (t.INTERVAL, pa.duration("ns")),
        (t.array(t.BIGINT), pa.list_(pa.int64())),
        (t.map_of(t.STRING, t.INT), pa.map_(pa.string(), pa.int32())),
        (t.row([("a", t.DOUBLE)]), pa.struct([("a", pa.float64())])),
    ],
)
def test_arrow_type(dtype: t.DataType, expected: pa.DataType) -> None:
    assert arrow_type(dtype) == expected


def test_arrow_schema_nullability() -> None:
    schema = arrow_schema(Schema.of([("a", t.INT.with_nullable(False)), ("b", t.INT)]))
    assert schema.field("a").nullable is False
    assert schema.field("b").nullable is True


def test_arrow_column_truncates_timestamps() -> None:
    values = pd.Series(pd.to_datetime(["2020-01-01 00:00:00.123456"])).astype("datetime64[ns]")
    column = arrow_column(values, t.timestamp(3))
    assert column.to_pylist()[0] == pd.Timestamp("2020-01-01 00:00:00.123").to_pydatetime()


def test_arrow_column_decimal_rounding_and_overflow() -> None:
    values = pd.Series(pd.array([12.345, -2.675, None], dtype="Float64"))
    assert [str(v) for v in arrow_column(values, t.decimal(10, 2)).to_pylist()] == [
        "12.35",
        "-2.68",
        "None",
    ]
    with pytest.raises(ValueError, match="does not fit DECIMAL\\(4, 2\\)"):
        arrow_column(pd.Series(pd.array([123.0], dtype="Float64")), t.decimal(4, 2))


def test_arrow_column_time_and_date() -> None:
    times = pd.Series(pd.to_timedelta(["01:02:03.5", None]))
    assert str(arrow_column(times, t.TIME).to_pylist()[0]) == "01:02:03"
    dates = pd.Series(pd.to_datetime(["2020-05-06"])).astype("datetime64[ns]")
    assert str(arrow_column(dates, t.DATE).to_pylist()[0]) == "2020-05-06"


def test_arrow_table_nested_values() -> None:
    schema = Schema.of(
        [
            ("r", t.row([("when", t.TIME), ("d", t.decimal(5, 1))])),
            ("m", t.map_of(t.STRING, t.array(t.INT))),
        ]
    )
    frame = pd.DataFrame(
        {
            "r": pd.Series([{"when": pd.Timedelta("00:00:05"), "d": 1.25}, None], dtype=object),
            "m": pd.Series([{"a": [1, None]}, None], dtype=object),
        }
    )
    table = arrow_table(frame, schema)
    first = table.to_pylist()[0]
    assert str(first["r"]["when"]) == "00:00:05"
    assert str(first["r"]["d"]) == "1.3"
    assert first["m"] == [("a", [1, None])]
    assert table.to_pylist()[1] == {"r": None, "m": None}
