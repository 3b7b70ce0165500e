"""String functions with Flink's semantics, vectorized with ``pyarrow.compute``.

Positions are 1-based and count characters (code points), not bytes. When an
argument that is usually a constant (a length, a pad string) varies per row,
the function falls back to a per-row Python loop with the same semantics.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from workbench.events import types as t
from workbench.events.types import DataType
from workbench.sql.functions.arrow import (
    arrow_ints,
    arrow_strings,
    join_strings,
    masked_numeric,
    numeric_parts,
    string_series,
)
from workbench.sql.functions.base import (
    ArgumentTypeError,
    Invocation,
    Options,
    ScalarFunction,
    Value,
    any_null_scalar,
    expect_count,
    is_integer,
    is_series,
    is_string,
    map_rows,
)

#: Longest LPAD/RPAD width computed with precomputed pad prefixes; wider pads loop per row.
_MAX_VECTOR_PAD = 4096


def signature(
    name: str, kinds: str, result: DataType, optional: int = 0
) -> Callable[..., DataType]:
    """Return an infer function for arguments described by letters: s = string, i = integer."""

    def infer(types: Sequence[DataType], options: Options) -> DataType:
        expect_count(name, types, len(kinds) - optional, len(kinds))
        for position, (kind, item) in enumerate(zip(kinds, types, strict=False)):
            accepts = is_string if kind == "s" else is_integer
            if not accepts(item):
                description, expected = (
                    ("a string", t.STRING) if kind == "s" else ("an integer", t.INT)
                )
                got = item.plain().sql()
                raise ArgumentTypeError(
                    f"{name} expects {description} as argument {position + 1}, got {got}",
                    position,
                    expected=expected,
                )
        return result

    return infer


def _variadic_strings(name: str, minimum: int) -> Callable[..., DataType]:
    def infer(types: Sequence[DataType], options: Options) -> DataType:
        expect_count(name, types, minimum, 10_000)
        for position, item in enumerate(types):
            if not is_string(item):
                raise ArgumentTypeError(
                    f"{name} expects strings, got {item.plain().sql()} as argument {position + 1}",
                    position,
                    expected=t.STRING,
                )
        return t.STRING

    return infer


def _scalars(args: Sequence[Value], positions: Sequence[int]) -> bool:
    return all(position >= len(args) or not is_series(args[position]) for position in positions)


def _strings(invocation: Invocation, value: Value) -> pa.Array:
    if is_series(value):
        return arrow_strings(value)
    return arrow_strings(invocation.broadcast(value, t.STRING))


def _unary(
    kernel: Callable[[pa.Array], pa.Array],
) -> Callable[[Invocation, Sequence[Value]], Value]:
    def implementation(invocation: Invocation, args: Sequence[Value]) -> Value:
        if any_null_scalar(args):
            return None
        return string_series(kernel(_strings(invocation, args[0])), invocation.index)

    return implementation


# Trimming, length, case ------------------------------------------------------------------


def _trim(invocation: Invocation, args: Sequence[Value]) -> Value:
    """TRIM/LTRIM/RTRIM: remove any of the given characters (default: spaces)."""
    if any_null_scalar(args):
        return None
    side = invocation.option("side", "BOTH")
    kernel = {"BOTH": pc.utf8_trim, "LEADING": pc.utf8_ltrim, "TRAILING": pc.utf8_rtrim}[side]
    if not _scalars(args, [1]):
        python = {"BOTH": str.strip, "LEADING": str.lstrip, "TRAILING": str.rstrip}[side]
        return map_rows(invocation, python, args)
    characters = args[1] if len(args) > 1 else " "
    return string_series(kernel(_strings(invocation, args[0]), characters), invocation.index)


def _char_length(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None
    return arrow_ints(pc.utf8_length(_strings(invocation, args[0])), invocation.index, "Int32")


def _ascii(invocation: Invocation, args: Sequence[Value]) -> Value:
    """Return the code of the first character; 0 for an empty string."""
    if any_null_scalar(args):
        return None
    return map_rows(invocation, lambda text: ord(text[0]) if text else 0, args)


_CHR_TABLE = pa.array([chr(code) for code in range(256)], pa.large_string())


def _chr(invocation: Invocation, args: Sequence[Value]) -> Value:
    """Return the character of ``code`` modulo 256, or '' for a negative code (as Flink)."""
    if any_null_scalar(args):
        return None
    codes, mask = numeric_parts(invocation.broadcast(args[0], invocation.arg_types[0]), "int64")
    positions = pa.array(np.where(codes >= 0, codes % 256, 0), mask=mask)
    characters = _CHR_TABLE.take(positions)
    characters = pc.if_else(pa.array(codes < 0), pa.scalar("", pa.large_string()), characters)
    return string_series(characters, invocation.index)


# Substrings and positions ----------------------------------------------------------------


def substring_python(text: str, start: int, length: int | None = None) -> str | None:
    """SUBSTRING with Flink's rules: 1-based, a negative start counts from the end."""
    if length is not None and length < 0:
        return None
    size = len(text)
    if start > 0:
        begin = start - 1
    elif start < 0:
        begin = size + start
    else:
        begin = 0
    end = size if length is None else begin + length
    begin = max(begin, 0)
    end = min(end, size)
    return text[begin:end] if end > begin else ""


def _substring(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None
    if not _scalars(args, [1, 2]):
        return map_rows(invocation, substring_python, args)
    start = int(args[1])
    length = int(args[2]) if len(args) > 2 else None
    if length is not None and length < 0:
        return None
    strings = _strings(invocation, args[0])
    if start >= 0:
        begin = max(start - 1, 0)
        stop = None if length is None else begin + length
    else:
        # A negative start counts from the end; the stop is relative to the end
        # too while it stays negative, which matches substring_python.
        begin = start
        stop = None if length is None or start + length >= 0 else start + length
    return string_series(pc.utf8_slice_codeunits(strings, begin, stop), invocation.index)


def _left(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None
    if not _scalars(args, [1]):
        return map_rows(invocation, lambda text, count: text[: max(count, 0)], args)
    count = max(int(args[1]), 0)
    return string_series(
        pc.utf8_slice_codeunits(_strings(invocation, args[0]), 0, count), invocation.index
    )


def _right(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None
    if not _scalars(args, [1]):
        return map_rows(
            invocation, lambda text, count: text[len(text) - count :] if count > 0 else "", args
        )
    count = int(args[1])
    strings = _strings(invocation, args[0])
    if count <= 0:
        return string_series(pc.utf8_slice_codeunits(strings, 0, 0), invocation.index)
    return string_series(pc.utf8_slice_codeunits(strings, -count), invocation.index)


def _locate(invocation: Invocation, args: Sequence[Value]) -> Value:
    """LOCATE(needle, haystack[, from]) and POSITION(needle IN haystack): 1-based, 0 if absent."""
    if any_null_scalar(args):
        return None
    if not _scalars(args, [0, 2]):

        def locate(needle: str, haystack: str, start: int = 1) -> int:
            return haystack.find(needle, max(start - 1, 0)) + 1

        return map_rows(invocation, locate, args)
    start = max(int(args[2]) - 1, 0) if len(args) > 2 else 0
    haystack = invocation.broadcast(args[1], t.STRING)
    found = haystack.str.find(str(args[0]), start)
    values, mask = numeric_parts(found, "int64")
    return masked_numeric(values + 1, mask, "Int32", invocation.index)


def _replace(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None
    if not _scalars(args, [1, 2]) or args[1] == "":
        return map_rows(invocation, lambda text, old, new: text.replace(old, new), args)
    replaced = pc.replace_substring(_strings(invocation, args[0]), str(args[1]), str(args[2]))
    return string_series(replaced, invocation.index)


# Joining, padding, repeating -------------------------------------------------------------


def _concat(invocation: Invocation, args: Sequence[Value]) -> Value:
    """CONCAT: NULL if any argument is NULL."""
    if any_null_scalar(args):
        return None
    parts = [arrow_strings(arg) if is_series(arg) else str(arg) for arg in args]
    if not any(is_series(arg) for arg in args):
        return "".join(str(arg) for arg in args)
    return string_series(join_strings(parts), invocation.index)


def _concat_ws(invocation: Invocation, args: Sequence[Value]) -> Value:
    """CONCAT_WS: skips NULL strings; NULL only when the separator is NULL."""
    separator, values = args[0], args[1:]
    if any_null_scalar([separator]):
        return None
    if not any(is_series(arg) for arg in args):
        return str(separator).join(str(value) for value in values if not any_null_scalar([value]))
    parts = [
        arrow_strings(value) if is_series(value) else pa.scalar(value, pa.large_string())
        for value in values
    ]
    if not parts:
        return ""
    sep = arrow_strings(separator) if is_series(separator) else str(separator)
    joined = join_strings(parts, sep, "skip")
    if len(joined) != invocation.length:
        joined = pa.repeat(joined, invocation.length) if isinstance(joined, pa.Scalar) else joined
    return string_series(joined, invocation.index)


def pad_python(text: str, width: int, pad: str, left: bool) -> str | None:
    """LPAD/RPAD: pad or shorten ``text`` to ``width`` characters.

    NULL for a negative width or an empty pad string, as in Flink.
    """
    if width < 0 or pad == "":
        return None
    if len(text) >= width:
        return text[:width]
    missing = width - len(text)
    filler = (pad * (missing // len(pad) + 1))[:missing]
    return filler + text if left else text + filler


def _pad(left: bool) -> Callable[[Invocation, Sequence[Value]], Value]:
    def implementation(invocation: Invocation, args: Sequence[Value]) -> Value:
        if any_null_scalar(args):
            return None
        if not _scalars(args, [1, 2]) or int(args[1]) > _MAX_VECTOR_PAD:
            return map_rows(
                invocation, lambda text, width, pad: pad_python(text, width, pad, left), args
            )
        width, pad = int(args[1]), str(args[2])
        if width < 0 or pad == "":
            return None
        strings = _strings(invocation, args[0])
        lengths, mask = numeric_parts(
            arrow_ints(pc.utf8_length(strings), invocation.index), "int64"
        )
        full = (pad * (width // len(pad) + 1))[:width]
        prefixes = pa.array([full[:count] for count in range(width + 1)], pa.large_string())
        missing = pa.array(np.clip(width - lengths, 0, width), mask=mask)
        filler = prefixes.take(missing)
        shortened = pc.utf8_slice_codeunits(strings, 0, width)
        joined = join_strings([filler, shortened] if left else [shortened, filler])
        return string_series(joined, invocation.index)

    return implementation


def _repeat(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None
    if not _scalars(args, [1]):
        return map_rows(invocation, lambda text, count: text * max(count, 0), args)
    repeated = pc.binary_repeat(_strings(invocation, args[0]), max(int(args[1]), 0))
    return string_series(repeated, invocation.index)


def _uuid(invocation: Invocation, args: Sequence[Value]) -> Value:
    values = pa.array([str(uuid.uuid4()) for _ in range(invocation.length)], pa.large_string())
    return string_series(values, invocation.index)


def _reverse(strings: pa.Array) -> pa.Array:
    return pc.utf8_reverse(strings)


def _initcap(strings: pa.Array) -> pa.Array:
    # NOTE: pyarrow's title case starts a word after any uncased character,
    # so '1st' becomes '1St' where Flink's INITCAP gives '1st'.
    return pc.utf8_title(strings)


FUNCTIONS = [
    ScalarFunction(
        "UPPER", signature("UPPER", "s", t.STRING), _unary(pc.utf8_upper), "UPPER(string)"
    ),
    ScalarFunction(
        "LOWER", signature("LOWER", "s", t.STRING), _unary(pc.utf8_lower), "LOWER(string)"
    ),
    ScalarFunction(
        "INITCAP", signature("INITCAP", "s", t.STRING), _unary(_initcap), "INITCAP(string)"
    ),
    ScalarFunction(
        "REVERSE", signature("REVERSE", "s", t.STRING), _unary(_reverse), "REVERSE(string)"
    ),
    ScalarFunction(
        "TRIM",
        signature("TRIM", "ss", t.STRING, 1),
        _trim,
        "TRIM([BOTH | LEADING | TRAILING] [chars] FROM string)",
    ),
    ScalarFunction("LTRIM", signature("LTRIM", "ss", t.STRING, 1), _trim, "LTRIM(string[, chars])"),
    ScalarFunction("RTRIM", signature("RTRIM", "ss", t.STRING, 1), _trim, "RTRIM(string[, chars])"),
    ScalarFunction(
        "CHAR_LENGTH", signature("CHAR_LENGTH", "s", t.INT), _char_length, "CHAR_LENGTH(string)"
    ),
    ScalarFunction(
        "CHARACTER_LENGTH",
        signature("CHARACTER_LENGTH", "s", t.INT),
        _char_length,
        "CHARACTER_LENGTH(string)",
    ),
    ScalarFunction(
        "SUBSTRING",
        signature("SUBSTRING", "sii", t.STRING, 1),
        _substring,
        "SUBSTRING(string FROM start [FOR length])",
    ),
    ScalarFunction(
        "SUBSTR",
        signature("SUBSTR", "sii", t.STRING, 1),
        _substring,
        "SUBSTR(string, start[, length])",
    ),
    ScalarFunction("LEFT", signature("LEFT", "si", t.STRING), _left, "LEFT(string, count)"),
    ScalarFunction("RIGHT", signature("RIGHT", "si", t.STRING), _right, "RIGHT(string, count)"),
    ScalarFunction(
        "LOCATE", signature("LOCATE", "ssi", t.INT, 1), _locate, "LOCATE(needle, haystack[, from])"
    ),
    ScalarFunction(
        "POSITION", signature("POSITION", "ss", t.INT), _locate, "POSITION(needle IN haystack)"
    ),
    ScalarFunction(
        "REPLACE",
        signature("REPLACE", "sss", t.STRING),
        _replace,
        "REPLACE(string, search, replacement)",
    ),
    ScalarFunction(
        "CONCAT",
        _variadic_strings("CONCAT", 1),
        _concat,
        "CONCAT(string1, ...)",
        "NULL if any is NULL.",
    ),
    ScalarFunction(
        "CONCAT_WS",
        _variadic_strings("CONCAT_WS", 1),
        _concat_ws,
        "CONCAT_WS(separator, string1, ...)",
        "Skips NULLs.",
    ),
    ScalarFunction(
        "LPAD", signature("LPAD", "sis", t.STRING), _pad(True), "LPAD(string, width, pad)"
    ),
    ScalarFunction(
        "RPAD", signature("RPAD", "sis", t.STRING), _pad(False), "RPAD(string, width, pad)"
    ),
    ScalarFunction("REPEAT", signature("REPEAT", "si", t.STRING), _repeat, "REPEAT(string, count)"),
    ScalarFunction("ASCII", signature("ASCII", "s", t.INT), _ascii, "ASCII(string)"),
    ScalarFunction("CHR", signature("CHR", "i", t.STRING), _chr, "CHR(code)"),
    ScalarFunction("UUID", signature("UUID", "", t.STRING), _uuid, "UUID()", deterministic=False),
]
