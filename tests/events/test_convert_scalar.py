import base64
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from workbench.events import types as t
from workbench.events.conform import convert_column
from workbench.events.convert import ConformOptions, Conversion

OPTIONS = ConformOptions()


def convert(values: Sequence[object], dtype: t.DataType, text: bool = False) -> Conversion:
    series = pd.Series(list(values), dtype=pd.StringDtype("pyarrow") if text else object)
    return convert_column(series, dtype, OPTIONS)


def test_boolean_text_spellings() -> None:
    values = ["true", "FALSE", " Yes ", "no", "1", "0", "", None, "maybe"]
    result = convert(values, t.BOOLEAN, text=True)
    assert result.values.tolist() == [True, False, True, False, True, False, pd.NA, pd.NA, pd.NA]
    assert result.failed.tolist() == [False] * 8 + [True]


def test_boolean_numbers() -> None:
    result = convert_column(pd.Series([0, 1, 2]), t.BOOLEAN, OPTIONS)
    assert result.values.tolist() == [False, True, pd.NA]
    assert result.failed.tolist() == [False, False, True]


def test_boolean_python_values() -> None:
    result = convert([True, None, False], t.BOOLEAN)
    assert result.values.tolist() == [True, pd.NA, False]
    assert str(result.values.dtype) == "boolean"


def test_integer_text() -> None:
    result = convert(["1", " -2 ", "+3", "", "1.5", "abc", None], t.BIGINT, text=True)
    assert result.values.tolist() == [1, -2, 3, pd.NA, pd.NA, pd.NA, pd.NA]
    assert result.failed.tolist() == [False, False, False, False, True, True, False]


def test_integer_text_beyond_int64() -> None:
    result = convert(["9223372036854775807", "9223372036854775808"], t.BIGINT, text=True)
    assert result.values.tolist() == [9223372036854775807, pd.NA]
    assert result.failed.tolist() == [False, True]


@pytest.mark.parametrize(
    ("dtype", "inside", "outside"),
    [(t.TINYINT, 127, 128), (t.SMALLINT, -32768, -32769), (t.INT, 2**31 - 1, 2**31)],
)
def test_integer_range(dtype: t.DataType, inside: int, outside: int) -> None:
    result = convert_column(pd.Series([inside, outside]), dtype, OPTIONS)
    assert result.values.tolist() == [inside, pd.NA]
    assert result.failed.tolist() == [False, True]


def test_integer_from_floats() -> None:
    result = convert_column(pd.Series([1.0, 2.5, np.nan, 1e30]), t.BIGINT, OPTIONS)
    assert result.values.tolist() == [1, pd.NA, pd.NA, pd.NA]
    assert result.failed.tolist() == [False, True, False, True]


def test_integer_from_uint64() -> None:
    values = pd.Series(np.array([1, 2**64 - 1], dtype=np.uint64))
    result = convert_column(values, t.BIGINT, OPTIONS)
    assert result.values.tolist() == [1, pd.NA]
    assert result.failed.tolist() == [False, True]


def test_float_text() -> None:
    result = convert(["1.5", "-2e3", " .5 ", "inf", "", "abc"], t.DOUBLE, text=True)
    assert result.values.tolist()[:4] == [1.5, -2000.0, 0.5, float("inf")]
    assert result.failed.tolist() == [False, False, False, False, False, True]


def test_float_nan_text_is_not_failure() -> None:
    result = convert(["nan"], t.DOUBLE, text=True)
    assert not result.failed.any()


def test_float32_dtype() -> None:
    result = convert(["1.25"], t.FLOAT, text=True)
    assert str(result.values.dtype) == "Float32"
    assert result.values.tolist() == [1.25]


def test_decimal_as_float() -> None:
    result = convert(["12.34"], t.decimal(10, 2), text=True)
    assert str(result.values.dtype) == "Float64"
    assert result.values.tolist() == [12.34]


def test_string_from_text_keeps_blank() -> None:
    result = convert(["", " a ", None], t.STRING, text=True)
    assert result.values.tolist() == ["", " a ", pd.NA]
    assert result.values.dtype == pd.StringDtype("pyarrow")


def test_string_from_mixed_json() -> None:
    result = convert(["a", 1, 1.5, True, {"k": [1]}, None], t.STRING)
    assert result.values.tolist() == ["a", "1", "1.5", "true", '{"k":[1]}', pd.NA]
    assert not result.failed.any()


def test_string_from_bytes() -> None:
    result = convert([b"abc", b"\xff"], t.STRING)
    assert result.values.tolist() == ["abc", pd.NA]
    assert result.failed.tolist() == [False, True]


def test_binary_base64_text() -> None:
    encoded = base64.b64encode(b"\x00\x01").decode()
    result = convert([encoded, "not base64!", None], t.BINARY, text=True)
    assert result.values.tolist() == [b"\x00\x01", None, None]
    assert result.failed.tolist() == [False, True, False]


def test_binary_bytes_pass() -> None:
    result = convert([b"ab", bytearray(b"c")], t.BINARY)
    assert result.values.tolist() == [b"ab", b"c"]


def test_integer_rejects_nested_value() -> None:
    result = convert([{"a": 1}], t.BIGINT)
    assert result.failed.tolist() == [True]
