import pandas as pd
import pytest

from workbench.events import types as t
from workbench.events.conform import conform
from workbench.events.rejected import RejectedRows
from workbench.events.schema import Schema

ALL_TYPES = Schema.of(
    [
        ("ts", t.timestamp(3)),
        ("lt", t.timestamp_ltz(3)),
        ("id", t.BIGINT),
        ("small", t.SMALLINT),
        ("x", t.DOUBLE),
        ("name", t.STRING),
        ("ok", t.BOOLEAN),
        ("d", t.DATE),
        ("tm", t.TIME),
        ("price", t.decimal(10, 2)),
        ("user", t.row([("age", t.INT), ("seen", t.timestamp(3))])),
        ("tags", t.array(t.STRING)),
        ("attrs", t.map_of(t.STRING, t.DOUBLE)),
    ]
)


@pytest.fixture
def schema() -> Schema:
    return ALL_TYPES


@pytest.fixture
def rows() -> pd.DataFrame:
    """Two conformed rows: one with a value in every column, one all null."""
    raw = pd.DataFrame(
        {
            "ts": ["2020-01-01 10:00:00.123", None],
            "lt": ["2020-01-01T10:00:00.5Z", None],
            "id": [1, None],
            "small": [7, None],
            "x": [1.5, None],
            "name": ['a,"b"', None],
            "ok": [True, None],
            "d": ["2020-01-02", None],
            "tm": ["10:30:00", None],
            "price": [12.345, None],
            "user": [{"age": 30, "seen": "2020-01-01 00:00:01"}, None],
            "tags": [["x", "y"], None],
            "attrs": [{"k": 1.5}, None],
        }
    )
    return conform(raw, ALL_TYPES, RejectedRows("fixture"))
