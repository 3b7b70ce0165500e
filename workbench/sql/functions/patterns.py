"""Pattern matching: LIKE, SIMILAR TO, REGEXP, REGEXP_EXTRACT, REGEXP_REPLACE, SPLIT_INDEX and
STR_TO_MAP.

Regular expressions follow Java's syntax, as in Flink. A constant pattern runs
vectorized in pyarrow's RE2 engine. A pattern that RE2 rejects (look-around,
back references), or a pattern that varies per row, runs row by row in
Python's ``re``, whose syntax is close to Java's.

NOTE: Java-only character classes such as ``\\p{javaLowerCase}`` are not
translated, so a pattern that uses them fails.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from workbench.events import types as t
from workbench.sql.functions.arrow import arrow_strings, bool_series, string_series
from workbench.sql.functions.base import (
    Invocation,
    ScalarFunction,
    Value,
    any_null_scalar,
    is_series,
    map_rows,
)
from workbench.sql.functions.strings import signature

_REGEX_SPECIAL = set("\\^$.|?*+()[]{}")


# Pattern translation ---------------------------------------------------------------------


def like_to_arrow(pattern: str, escape: str | None) -> str:
    """Rewrite a LIKE pattern for pyarrow's ``match_like``, whose escape character is ``\\``."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if escape is not None and char == escape and index + 1 < len(pattern):
            following = pattern[index + 1]
            out.append("\\" + following if following in "%_\\" else following)
            index += 2
            continue
        out.append("\\\\" if char == "\\" else char)
        index += 1
    return "".join(out)


@functools.lru_cache(maxsize=256)
def like_to_regex(pattern: str, escape: str | None) -> re.Pattern[str]:
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if escape is not None and char == escape and index + 1 < len(pattern):
            out.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        if char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("".join(out), re.DOTALL)


@functools.lru_cache(maxsize=256)
def similar_to_regex(pattern: str, escape: str | None) -> str:
    """Translate a SIMILAR TO pattern (SQL regular expression) to a Java-style regex."""
    out: list[str] = []
    index = 0
    in_class = False
    while index < len(pattern):
        char = pattern[index]
        if escape is not None and char == escape and index + 1 < len(pattern):
            out.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        if in_class:
            out.append(char)
            in_class = char != "]"
        elif char == "[":
            out.append(char)
            in_class = True
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        elif char in "|*+?{}()":
            out.append(char)
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)


def java_regex(pattern: str) -> str:
    """Rewrite Java's named groups ``(?<name>...)`` as ``(?P<name>...)`` for RE2 and Python."""
    return re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", pattern)


def capture_groups(pattern: str) -> list[int]:
    """Return the offsets of the ``(`` of each capturing group, in group-number order."""
    offsets: list[int] = []
    index = 0
    in_class = False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern.startswith("]", index + 1) or pattern.startswith("^]", index + 1):
                index += 2 if pattern[index + 1] == "]" else 3
                continue
        elif char == "(":
            named = pattern.startswith("?P<", index + 1) or re.match(
                r"\?<[A-Za-z]", pattern[index + 1 :]
            )
            if not pattern.startswith("?", index + 1) or named:
                offsets.append(index)
        index += 1
    return offsets


def name_group(pattern: str, group: int) -> tuple[str, str] | None:
    """Return ``(pattern, name)`` where group ``group`` is the named group ``name``.

    pyarrow's ``extract_regex`` only accepts named groups, so every other
    unnamed group becomes non-capturing. Returns None if there is no such group.
    """
    offsets = capture_groups(pattern)
    if group > len(offsets):
        return None
    result = pattern
    name = "workbench_group"
    for number, offset in reversed(list(enumerate(offsets, start=1))):
        named = re.match(r"\(\?P?<([A-Za-z]\w*)>", result[offset:])
        if number == group and named:
            name = named.group(1)
        elif number == group:
            result = result[: offset + 1] + "?P<workbench_group>" + result[offset + 1 :]
        elif not named:
            result = result[: offset + 1] + "?:" + result[offset + 1 :]
    if group == 0:
        result = f"(?P<workbench_group>{result})"
    return result, name


def java_replacement(replacement: str, *, python: bool) -> str:
    """Translate a Java replacement (``$1``, ``\\$``) for RE2 (``\\1``) or Python (``\\g<1>``)."""
    out: list[str] = []
    index = 0
    while index < len(replacement):
        char = replacement[index]
        if char == "\\" and index + 1 < len(replacement):
            out.append("\\\\" if replacement[index + 1] == "\\" else replacement[index + 1])
            index += 2
            continue
        if char == "$" and index + 1 < len(replacement) and replacement[index + 1].isdigit():
            digit = replacement[index + 1]
            out.append(f"\\g<{digit}>" if python else "\\" + digit)
            index += 2
            continue
        out.append("\\\\" if char == "\\" else char)
        index += 1
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(java_regex(pattern))


def _strings(invocation: Invocation, value: Value) -> pa.Array:
    return arrow_strings(invocation.broadcast(value, t.STRING))


# LIKE and SIMILAR TO ---------------------------------------------------------------------


def _like(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None
    escape = args[2] if len(args) > 2 else None
    if is_series(args[1]) or is_series(escape):
        return map_rows(
            invocation,
            lambda text, pattern, *rest: bool(
                like_to_regex(pattern, (rest or [None])[0]).fullmatch(text)
            ),
            args,
        )
    matched = pc.match_like(_strings(invocation, args[0]), like_to_arrow(str(args[1]), escape))
    return bool_series(matched, invocation.index)


def _similar(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None
    escape = args[2] if len(args) > 2 else None
    if is_series(args[1]) or is_series(escape):

        def similar(text: str, pattern: str, *rest: str) -> bool:
            return (
                re.fullmatch(similar_to_regex(pattern, (rest or [None])[0]), text, re.DOTALL)
                is not None
            )

        return map_rows(invocation, similar, args)
    regex = "(?s)^(?:" + similar_to_regex(str(args[1]), escape) + ")$"
    return _regex_match(
        invocation, args[0], regex, lambda text: re.fullmatch(regex, text) is not None
    )


# Regular expressions ---------------------------------------------------------------------


def _regex_match(
    invocation: Invocation, strings: Value, regex: str, fallback: Callable[[str], bool]
) -> Value:
    try:
        matched = pc.match_substring_regex(_strings(invocation, strings), java_regex(regex))
    except pa.ArrowInvalid:
        return map_rows(invocation, fallback, [strings])
    return bool_series(matched, invocation.index)


def _regexp(invocation: Invocation, args: Sequence[Value]) -> Value:
    """REGEXP(string, regex): TRUE if any substring matches."""
    if any_null_scalar(args):
        return None
    if is_series(args[1]):
        return map_rows(
            invocation, lambda text, regex: _compiled(regex).search(text) is not None, args
        )
    regex = str(args[1])
    return _regex_match(
        invocation, args[0], regex, lambda text: _compiled(regex).search(text) is not None
    )


def _extract_python(text: str, regex: str, group: int = 0) -> str | None:
    if not regex or group < 0:
        return None
    compiled = _compiled(regex)
    if group > compiled.groups:
        return None
    match = compiled.search(text)
    return None if match is None else match.group(group)


def _regexp_extract(invocation: Invocation, args: Sequence[Value]) -> Value:
    """REGEXP_EXTRACT(string, regex[, group]): the group of the first match (whole match for 0)."""
    if any_null_scalar(args):
        return None
    if is_series(args[1]) or (len(args) > 2 and is_series(args[2])):
        return map_rows(invocation, _extract_python, args)
    regex = str(args[1])
    group = int(args[2]) if len(args) > 2 else 0
    if not regex or group < 0:
        return None
    named = name_group(java_regex(regex), group)
    if named is None:
        return None
    try:
        extracted = pc.extract_regex(_strings(invocation, args[0]), named[0])
    except pa.ArrowInvalid:
        return map_rows(invocation, lambda text: _extract_python(text, regex, group), [args[0]])
    return string_series(pc.struct_field(extracted, named[1]), invocation.index)


def _replace_python(text: str, regex: str, replacement: str) -> str:
    if not regex:
        return text
    return _compiled(regex).sub(java_replacement(replacement, python=True), text)


def _regexp_replace(invocation: Invocation, args: Sequence[Value]) -> Value:
    """REGEXP_REPLACE(string, regex, replacement); ``$1`` in the replacement is group 1."""
    if any_null_scalar(args):
        return None
    if is_series(args[1]) or is_series(args[2]):
        return map_rows(invocation, _replace_python, args)
    regex, replacement = str(args[1]), str(args[2])
    if not regex:
        return invocation.broadcast(args[0], t.STRING)
    try:
        replaced = pc.replace_substring_regex(
            _strings(invocation, args[0]),
            java_regex(regex),
            java_replacement(replacement, python=False),
        )
    except pa.ArrowInvalid:
        return map_rows(
            invocation, lambda text: _replace_python(text, regex, replacement), [args[0]]
        )
    return string_series(replaced, invocation.index)


# Splitting -------------------------------------------------------------------------------


def _split_python(text: str, separator: str, position: int) -> str | None:
    if position < 0:
        return None
    parts = text.split() if separator == "" else text.split(separator)
    return parts[position] if position < len(parts) else None


def _split_index(invocation: Invocation, args: Sequence[Value]) -> Value:
    """SPLIT_INDEX(string, separator, n): the n-th (0-based) piece, NULL when out of range."""
    if any_null_scalar(args):
        return None
    if is_series(args[1]) or is_series(args[2]) or args[1] == "":
        return map_rows(invocation, _split_python, args)
    position = int(args[2])
    if position < 0:
        return None
    lists = pc.split_pattern(_strings(invocation, args[0]), str(args[1]))
    lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False)
    missing = lists.is_null().to_numpy(zero_copy_only=False)
    valid = ~missing & (np.nan_to_num(lengths, nan=0) > position)
    offsets = lists.offsets.to_numpy()[:-1]
    positions = pa.array(np.where(valid, offsets + position, 0), mask=~valid)
    return string_series(lists.values.take(positions), invocation.index)


def _str_to_map_python(
    text: str, pair_delimiter: str = ",", key_delimiter: str = "="
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for pair in _compiled(pair_delimiter).split(text):
        if pair == "":
            continue
        parts = _compiled(key_delimiter).split(pair, maxsplit=1)
        result[parts[0]] = parts[1] if len(parts) > 1 else None
    return result


def _str_to_map(invocation: Invocation, args: Sequence[Value]) -> Value:
    """STR_TO_MAP(string[, pair_delimiter, key_value_delimiter]); the delimiters are regexes."""
    if any_null_scalar(args):
        return None
    return map_rows(invocation, _str_to_map_python, args)


FUNCTIONS = [
    ScalarFunction(
        "LIKE", signature("LIKE", "sss", t.BOOLEAN, 1), _like, "string LIKE pattern [ESCAPE char]"
    ),
    ScalarFunction(
        "SIMILAR TO",
        signature("SIMILAR TO", "sss", t.BOOLEAN, 1),
        _similar,
        "string SIMILAR TO pattern [ESCAPE char]",
    ),
    ScalarFunction(
        "REGEXP", signature("REGEXP", "ss", t.BOOLEAN), _regexp, "REGEXP(string, regex)"
    ),
    ScalarFunction(
        "REGEXP_EXTRACT",
        signature("REGEXP_EXTRACT", "ssi", t.STRING, 1),
        _regexp_extract,
        "REGEXP_EXTRACT(string, regex[, group])",
    ),
    ScalarFunction(
        "REGEXP_REPLACE",
        signature("REGEXP_REPLACE", "sss", t.STRING),
        _regexp_replace,
        "REGEXP_REPLACE(string, regex, replacement)",
    ),
    ScalarFunction(
        "SPLIT_INDEX",
        signature("SPLIT_INDEX", "ssi", t.STRING),
        _split_index,
        "SPLIT_INDEX(string, separator, n)",
    ),
    ScalarFunction(
        "STR_TO_MAP",
        signature("STR_TO_MAP", "sss", t.map_of(t.STRING, t.STRING), 2),
        _str_to_map,
        "STR_TO_MAP(string[, pair_delimiter, key_value_delimiter])",
    ),
]
