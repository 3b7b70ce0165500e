import numpy as np
import pandas as pd

from workbench.events import types as t
from workbench.events.conform import conform, convert_column
from workbench.events.convert import ConformOptions
from workbench.events.rejected import RejectedRows
from workbench.events.schema import Schema

OPTIONS = ConformOptions()
USER = t.row([("name", t.STRING), ("age", t.INT), ("seen", t.timestamp(3))])


def objects(values: list[object]) -> pd.Series:
    return pd.Series(values, dtype=object)


def test_row_converts_fields() -> None:
    value = {"name": "ann", "AGE": "42", "seen": "2020-01-01 10:00:00", "extra": 1}
    result = convert_column(objects([value, None]), USER, OPTIONS)
    assert result.values.tolist() == [
        {"name": "ann", "age": 42, "seen": pd.Timestamp("2020-01-01 10:00:00")},
        None,
    ]
    assert not result.failed.any()


def test_row_missing_field_is_none() -> None:
    result = convert_column(objects([{"name": "x"}]), USER, OPTIONS)
    assert result.values[0] == {"name": "x", "age": None, "seen": None}


def test_row_from_json_text() -> None:
    series = pd.Series(['{"name": "b", "age": 3}', ""], dtype=pd.StringDtype("pyarrow"))
    result = convert_column(series, USER, OPTIONS)
    assert result.values[0]["age"] == 3
    assert result.values[1] is None
    assert not result.failed.any()


def test_row_failing_field_names_path() -> None:
    result = convert_column(objects([{"age": "old"}]), USER, OPTIONS)
    assert result.failed.tolist() == [True]
    failure = result.failures[0]
    assert failure.path == ".age"
    assert failure.message == "invalid INT value 'old'"


def test_row_rejects_non_object() -> None:
    result = convert_column(objects([[1, 2], "{bad json"]), USER, OPTIONS)
    assert result.failed.tolist() == [True, True]


def test_row_nested_path_in_reason() -> None:
    outer = t.row([("user", USER)])
    schema = Schema.of([("payload", outer)])
    rejected = RejectedRows("s")
    frame = pd.DataFrame({"payload": objects([{"user": {"age": "x"}}, {"user": {"age": 1}}])})
    result = conform(frame, schema, rejected, lines=np.array([1, 2]))
    assert len(result) == 1
    assert rejected.rows[0][3] == "column 'payload.user.age': invalid INT value 'x'"


def test_row_not_null_field() -> None:
    dtype = t.row([("id", t.BIGINT.with_nullable(False))])
    result = convert_column(objects([{"id": None}, {"id": 1}]), dtype, OPTIONS)
    assert result.failed.tolist() == [True, False]
    assert result.failures[0].message == "NULL in a NOT NULL field of type BIGINT NOT NULL"


def test_array_converts_elements() -> None:
    dtype = t.array(t.INT)
    result = convert_column(objects([[1, "2"], (), np.array([3]), None]), dtype, OPTIONS)
    assert result.values.tolist() == [[1, 2], [], [3], None]


def test_array_failing_element_index() -> None:
    result = convert_column(objects([[1, 2], [3, "x"]]), t.array(t.INT), OPTIONS)
    assert result.failed.tolist() == [False, True]
    assert result.failures[1].path == "[2]"
    assert result.values.tolist() == [[1, 2], None]


def test_array_of_rows() -> None:
    dtype = t.array(t.row([("k", t.STRING)]))
    result = convert_column(objects([[{"k": "a"}, {"k": 1}]]), dtype, OPTIONS)
    assert result.values[0] == [{"k": "a"}, {"k": "1"}]


def test_array_of_equal_length_lists() -> None:
    dtype = t.array(t.array(t.INT))
    result = convert_column(objects([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]), dtype, OPTIONS)
    assert result.values.tolist() == [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]


def test_array_rejects_string() -> None:
    result = convert_column(objects(["abc"]), t.array(t.INT), OPTIONS)
    assert result.failed.tolist() == [True]


def test_map_from_json_object() -> None:
    dtype = t.map_of(t.INT, t.DOUBLE)
    result = convert_column(objects([{"1": 2, "3": "4.5"}]), dtype, OPTIONS)
    assert result.values[0] == {1: 2.0, 3: 4.5}


def test_map_from_pairs() -> None:
    dtype = t.map_of(t.STRING, t.BIGINT)
    result = convert_column(
        objects([[("a", 1), ("b", 2)], [{"key": "c", "value": 3}]]), dtype, OPTIONS
    )
    assert result.values.tolist() == [{"a": 1, "b": 2}, {"c": 3}]


def test_map_failing_value_names_key() -> None:
    result = convert_column(objects([{"a": "x"}]), t.map_of(t.STRING, t.INT), OPTIONS)
    assert result.failed.tolist() == [True]
    assert result.failures[0].path == "['a']"


def test_map_rejects_bad_pairs() -> None:
    result = convert_column(objects([[1, 2, 3]]), t.map_of(t.STRING, t.INT), OPTIONS)
    assert result.failed.tolist() == [True]
