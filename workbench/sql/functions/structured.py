"""Functions that read structured text: JSON_VALUE, JSON_EXISTS and PARSE_URL.

JSON documents are parsed row by row with orjson (there is no vectorized JSON
path evaluation); PARSE_URL splits URLs with one vectorized regular expression.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from workbench.errors import QueryRuntimeError
from workbench.events import types as t
from workbench.events.types import DataType, TypeKind
from workbench.sql.functions.arrow import arrow_strings, string_series
from workbench.sql.functions.base import (
    ArgumentTypeError,
    Invocation,
    Options,
    ScalarFunction,
    Value,
    any_null_scalar,
    expect,
    expect_count,
    is_series,
    is_string,
    map_rows,
    objects_to_series,
    to_objects,
)
from workbench.sql.functions.strings import signature

_MISSING = object()
#: Types that JSON_VALUE ... RETURNING accepts, as Flink documents.
JSON_RETURN_KINDS = (
    TypeKind.VARCHAR,
    TypeKind.BOOLEAN,
    TypeKind.INT,
    TypeKind.BIGINT,
    TypeKind.DOUBLE,
)


class JsonPathError(ValueError):
    """A JSON path is malformed, or strict mode met a missing member."""


# JSON paths ------------------------------------------------------------------------------

_STEP = re.compile(
    r"""\.(?P<name>[A-Za-z_$][\w$]*)|\.?\[\s*(?:'(?P<single>(?:[^']|'')*)'|"(?P<double>[^"]*)"|(?P<index>\d+)|(?P<star>\*))\s*\]|\.(?P<star2>\*)"""
)


@functools.lru_cache(maxsize=256)
def parse_path(path: str) -> tuple[bool, tuple[str | int | None, ...]]:
    """Parse ``[lax|strict] $.a.b[0]['c d']`` into ``(strict, steps)``; None is a wildcard."""
    text = path.strip()
    strict = False
    mode = re.match(r"(lax|strict)\s+", text, re.IGNORECASE)
    if mode:
        strict = mode.group(1).lower() == "strict"
        text = text[mode.end() :]
    if not text.startswith("$"):
        raise JsonPathError(f"invalid JSON path {path!r}: a path starts with $")
    steps: list[str | int | None] = []
    position = 1
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None:
            raise JsonPathError(f"invalid JSON path {path!r} at {text[position:]!r}")
        if match.group("name") is not None:
            steps.append(match.group("name"))
        elif match.group("single") is not None:
            steps.append(match.group("single").replace("''", "'"))
        elif match.group("double") is not None:
            steps.append(match.group("double"))
        elif match.group("index") is not None:
            steps.append(int(match.group("index")))
        else:
            steps.append(None)
        position = match.end()
    return strict, tuple(steps)


def follow(document: Any, steps: Sequence[str | int | None], strict: bool) -> Any:
    """Return the value at ``steps`` or _MISSING; strict mode raises JsonPathError instead."""
    current = document
    for step in steps:
        if step is None:
            if not isinstance(current, list):
                return _missing(strict, "a wildcard needs an array")
            return [follow(item, (), strict) for item in current]
        if isinstance(step, int):
            if not isinstance(current, list) or step >= len(current):
                return _missing(strict, f"no array element {step}")
            current = current[step]
        else:
            if not isinstance(current, dict) or step not in current:
                return _missing(strict, f"no member {step!r}")
            current = current[step]
    return current


def _missing(strict: bool, reason: str) -> Any:
    if strict:
        raise JsonPathError(reason)
    return _MISSING


# JSON_VALUE ------------------------------------------------------------------------------


def _infer_json_value(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("JSON_VALUE", types, 2, 4)
    expect("JSON_VALUE", types, 0, is_string, "a JSON string", expected=t.STRING)
    expect(
        "JSON_VALUE", types, 1, is_string, "a JSON path string such as '$.a.b'", expected=t.STRING
    )
    returning = options.get("returning") or t.STRING
    if returning.kind not in JSON_RETURN_KINDS:
        raise ArgumentTypeError(
            f"JSON_VALUE cannot return {returning.sql()}",
            hint="RETURNING takes STRING, BOOLEAN, INT, BIGINT or DOUBLE",
        )
    return returning.plain().with_nullable(True)


def _scalar_as(value: Any, type: DataType) -> Any:
    """Convert a JSON scalar to ``type``; raises ValueError when it does not fit."""
    kind = type.kind
    if kind is TypeKind.VARCHAR:
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else orjson.dumps(value).decode()
    if kind is TypeKind.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError(f"{value!r} is not a boolean")
    if kind in (TypeKind.INT, TypeKind.BIGINT):
        number = int(value) if not isinstance(value, float) or value.is_integer() else None
        if number is None or isinstance(value, bool):
            raise ValueError(f"{value!r} is not an integer")
        return number
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    return float(value)


def _behaviour(invocation: Invocation, condition: str, defaults: list[Any], row: int) -> Any:
    behaviour = invocation.option(f"on_{condition}", "NULL")
    if behaviour == "ERROR":
        raise QueryRuntimeError(
            f"JSON_VALUE found {'no value' if condition == 'empty' else 'an error'} "
            f"and the query asks for ERROR ON {condition.upper()}"
        )
    if behaviour == "DEFAULT":
        position = (
            0 if condition == "empty" or invocation.option("on_empty", "NULL") != "DEFAULT" else 1
        )
        return defaults[position][row]
    return None


def _json_value(invocation: Invocation, args: Sequence[Value]) -> Value:
    """JSON_VALUE(json, path [RETURNING type] [ON EMPTY] [ON ERROR]).

    Without ON EMPTY and ON ERROR clauses both give NULL.
    """
    length = invocation.length
    documents = to_objects(args[0], length)
    paths = to_objects(args[1], length)
    defaults = [to_objects(value, length) for value in args[2:]]
    target = invocation.result_type
    results: list[Any] = []
    for row, (text, path) in enumerate(zip(documents, paths, strict=True)):
        if text is None or path is None:
            results.append(None)
            continue
        try:
            strict, steps = parse_path(path)
            found = follow(orjson.loads(text), steps, strict)
            if found is _MISSING:
                results.append(_behaviour(invocation, "empty", defaults, row))
                continue
            if isinstance(found, (dict, list)):
                raise ValueError("the path selects an object or array, not a scalar")
            results.append(None if found is None else _scalar_as(found, target))
        except (orjson.JSONDecodeError, JsonPathError, ValueError, TypeError):
            results.append(_behaviour(invocation, "error", defaults, row))
    return objects_to_series(results, target, invocation.index)


def _json_exists(invocation: Invocation, args: Sequence[Value]) -> Value:
    """JSON_EXISTS(json, path): FALSE for invalid JSON (Flink's FALSE ON ERROR).

    NOTE: the dialect does not parse an explicit ``TRUE | FALSE | UNKNOWN | ERROR ON ERROR``
    clause, so only the default behaviour is available.
    """
    if any_null_scalar(args):
        return None

    def exists(text: str, path: str) -> bool:
        try:
            strict, steps = parse_path(path)
            return follow(orjson.loads(text), steps, strict) is not _MISSING
        except (orjson.JSONDecodeError, JsonPathError):
            return False

    return map_rows(invocation, exists, args)


# PARSE_URL -------------------------------------------------------------------------------

# The marker groups tell an absent part (NULL) from an empty one, because an
# optional group that does not take part in a match extracts as ''.
_URL = (
    r"^(?P<protocol>[A-Za-z][A-Za-z0-9+.\-]*):(?:(?P<slashes>//)(?P<authority>[^/?#]*))?"
    r"(?P<path>[^?#]*)(?:(?P<qmark>\?)(?P<query>[^#]*))?(?:(?P<hash>#)(?P<ref>.*))?$"
)
_URL_PATTERN = re.compile(_URL, re.DOTALL)
#: Protocols that java.net.URL accepts; Flink returns NULL for a URL with any other protocol.
KNOWN_PROTOCOLS = ("http", "https", "ftp", "file", "jar", "mailto", "netdoc")
URL_PARTS = ("HOST", "PATH", "QUERY", "REF", "PROTOCOL", "FILE", "AUTHORITY", "USERINFO")


def parse_url_python(url: str, part: str, key: str | None = None) -> str | None:
    """Return a part of ``url`` as java.net.URL splits it; NULL for an unknown part or protocol."""
    match = _URL_PATTERN.match(url)
    if match is None or match.group("protocol").lower() not in KNOWN_PROTOCOLS:
        return None
    authority = match.group("authority")
    path, query = match.group("path"), match.group("query")
    part = part.upper()
    if part == "QUERY" and key is not None:
        if query is None:
            return None
        found = re.search(r"(?:^|&)" + re.escape(key) + r"=([^&]*)", query)
        return found.group(1) if found else None
    if part == "HOST":
        return None if authority is None else re.sub(r":\d*$", "", authority.rpartition("@")[2])
    if part == "USERINFO":
        return None if authority is None or "@" not in authority else authority.rpartition("@")[0]
    if part == "FILE":
        return path if query is None else f"{path}?{query}"
    if part == "PROTOCOL":
        return match.group("protocol")
    if part in ("PATH", "QUERY", "REF", "AUTHORITY"):
        return match.group(part.lower())
    return None


def _parse_url(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None
    if any(is_series(arg) for arg in args[1:]):
        return map_rows(invocation, parse_url_python, args)
    part = str(args[1]).upper()
    key = str(args[2]) if len(args) > 2 else None
    if part not in URL_PARTS or part in ("HOST", "USERINFO", "FILE") or key is not None:
        return map_rows(invocation, lambda url: parse_url_python(url, part, key), args[:1])
    urls = arrow_strings(invocation.broadcast(args[0], t.STRING))
    parts = pc.extract_regex(urls, _URL)
    protocol = pc.struct_field(parts, "protocol")
    known = pc.is_in(
        pc.utf8_lower(protocol), value_set=pa.array(KNOWN_PROTOCOLS, pa.large_string())
    )
    value = pc.struct_field(parts, part.lower())
    if part in ("QUERY", "REF", "AUTHORITY"):
        marker, text = {
            "QUERY": ("qmark", "?"),
            "REF": ("hash", "#"),
            "AUTHORITY": ("slashes", "//"),
        }[part]
        present = pc.equal(pc.struct_field(parts, marker), text)
        value = pc.if_else(present, value, pa.scalar(None, pa.large_string()))
    value = pc.if_else(known, value, pa.scalar(None, pa.large_string()))
    return string_series(value, invocation.index)


FUNCTIONS = [
    ScalarFunction(
        "JSON_VALUE",
        _infer_json_value,
        _json_value,
        "JSON_VALUE(json, path [RETURNING type] "
        "[NULL | ERROR | DEFAULT value ON EMPTY | ON ERROR])",
        guarded=True,
    ),
    ScalarFunction(
        "JSON_EXISTS",
        signature("JSON_EXISTS", "ss", t.BOOLEAN),
        _json_exists,
        "JSON_EXISTS(json, path)",
    ),
    ScalarFunction(
        "PARSE_URL",
        signature("PARSE_URL", "sss", t.STRING, 1),
        _parse_url,
        "PARSE_URL(url, part[, query_key])",
    ),
]
