"""Zeek log reader: tab-separated logs with '#' headers, and JSON lines logs.

A TSV log starts with header lines (``#separator``, ``#set_separator``,
``#empty_field``, ``#unset_field``, ``#path``, ``#fields``, ``#types``) and
may hold several header blocks, each followed by its data lines, and
``#close`` lines. Header lines are skipped and counted in
``counters.lines_skipped``. In data lines the unset field ('-') is NULL, the
empty field ('(empty)') is an empty set or vector, and ``\\xNN`` escapes are
decoded in strings and set elements. Zeek types map to SQL types by
:func:`sql_type`.

A JSON log (Zeek's ``LogAscii::use_json``) has one object per line with the
same field names. Its columns come from the first lines (option
'zeek.json.sample-lines', default 1000), see :func:`json_schema`.

Dotted field names nest: ``id.orig_h``, ``id.orig_p``, ``id.resp_h`` and
``id.resp_p`` become one column ``id ROW<orig_h STRING, orig_p INT, resp_h
STRING, resp_p INT>``, so ``id.orig_h`` in SQL reads as in Zeek. A name that
is both a field and the prefix of others (``a`` and ``a.b``) keeps all of
them as flat columns.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.errors import SourceError
from workbench.events import types as t
from workbench.events.infer import infer_type
from workbench.events.schema import Column, Schema
from workbench.events.types import DataType, TypeKind
from workbench.sources.log_text import (
    NAT,
    NS_PER_SECOND,
    Lines,
    LogReader,
    digits,
    fraction_ns,
    map_texts,
    matched,
    string_series,
    struct_fields,
    timestamp_series,
    unescape_hex,
)
from workbench.sources.paths import resolve_paths
from workbench.sources.reader import DEFAULT_CHUNK_ROWS, CountingFile, Reader
from workbench.sources.records import DEFAULT_BLOCK_BYTES

logger = logging.getLogger(__name__)

SAMPLE_OPTION = "zeek.json.sample-lines"
ZEEK_OPTIONS = frozenset({SAMPLE_OPTION})
DEFAULT_SAMPLE_LINES = 1000
#: Default bounded out-of-orderness of ``ts``. Zeek writes a conn.log row when
#: the connection ends but stamps it with the connection's start, so a row is
#: late by the connection's duration plus the time Zeek waits to declare it
#: over (``tcp_inactivity_timeout``, 5 min by default). Rows of connections
#: that took longer than this delay arrive after the watermark passed them.
ZEEK_WATERMARK_DELAY = "5 min"

# NOTE: Zeek's count is unsigned 64-bit; a count above BIGINT's maximum
# (2**63 - 1) rejects its line.
_SCALAR_TYPES: dict[str, DataType] = {
    "time": t.timestamp(6),
    "interval": t.DOUBLE,
    "count": t.BIGINT,
    "counter": t.BIGINT,
    "int": t.BIGINT,
    "double": t.DOUBLE,
    "port": t.INT,
    "bool": t.BOOLEAN,
}
_STRING_TYPES = frozenset({"addr", "subnet", "string", "enum", "pattern", "file", "func"})
_CONTAINERS = ("set[", "vector[", "table[")
_TIME_TEXT = r"^(?P<sign>-?)(?P<seconds>\d{1,12})(?:\.(?P<fraction>\d{1,9}))?$"
#: The fields of a connection id, typed as in TSV logs even when read from JSON.
_JSON_TYPES = {"ts": t.timestamp(6), "id.orig_p": t.INT, "id.resp_p": t.INT}


def sql_type(zeek_type: str) -> DataType:
    """Return the SQL type of a Zeek type name.

    time is TIMESTAMP(6) (UTC), interval DOUBLE seconds, count and int BIGINT,
    double DOUBLE, port INT, bool BOOLEAN, addr, subnet, string and enum
    STRING, and set[T], vector[T] and table[T] an ARRAY of T's type. Other
    types read as STRING.
    """
    name = zeek_type.strip()
    for prefix in _CONTAINERS:
        if name.startswith(prefix) and name.endswith("]"):
            return t.array(sql_type(name[len(prefix) : -1]))
    found = _SCALAR_TYPES.get(name)
    if found is not None:
        return found
    if name not in _STRING_TYPES:
        logger.debug("Zeek type %r has no SQL counterpart; reading it as STRING", name)
    return t.STRING


def _element_type(zeek_type: str) -> str:
    """Return the element type of a container type, or the type itself."""
    for prefix in _CONTAINERS:
        if zeek_type.startswith(prefix) and zeek_type.endswith("]"):
            return zeek_type[len(prefix) : -1]
    return zeek_type


def _type_note(zeek_type: str) -> str:
    if zeek_type == "interval":
        return "interval: seconds as DOUBLE"
    if zeek_type == "time":
        return "time: UTC"
    return zeek_type


# Headers ------------------------------------------------------------------------


@dataclass(frozen=True)
class ZeekHeader:
    """The settings and fields of one header block of a TSV log."""

    separator: str = "\t"
    set_separator: str = ","
    empty_field: str = "(empty)"
    unset_field: str = "-"
    path: str | None = None
    fields: tuple[str, ...] = ()
    types: tuple[str, ...] = ()

    def with_line(self, line: str) -> ZeekHeader:
        """Return the header after one '#' line; unknown keys ('#open', '#close') change nothing."""
        if line.startswith("#separator "):
            return replace(self, separator=unescape_hex(line[len("#separator ") :]))
        key, _, value = line[1:].partition(self.separator)
        if key == "set_separator":
            return replace(self, set_separator=unescape_hex(value))
        if key == "empty_field":
            return replace(self, empty_field=value)
        if key == "unset_field":
            return replace(self, unset_field=value)
        if key == "path":
            return replace(self, path=value)
        if key == "fields":
            return replace(self, fields=tuple(value.split(self.separator)), types=())
        if key == "types":
            return replace(self, types=tuple(value.split(self.separator)))
        return self

    def field_types(self) -> list[tuple[str, str]]:
        """Return (name, Zeek type) per field; fields without a '#types' entry are strings."""
        types = list(self.types) + ["string"] * (len(self.fields) - len(self.types))
        return list(zip(self.fields, types, strict=False))


@dataclass(frozen=True)
class LogFile:
    """The layout, log type and fields that the first lines of a log file show."""

    path: Path
    layout: str  # 'tsv' or 'json'
    log_type: str
    fields: list[tuple[str, DataType, str]] = field(default_factory=list)


def _log_type_from_name(path: Path) -> str:
    """Return the log type a file name shows: 'conn' for conn.log or conn.04:00:00-05:00:00.log.gz."""
    return path.name.split(".", 1)[0]


def inspect_log(path: Path, sample_lines: int = DEFAULT_SAMPLE_LINES) -> LogFile:
    """Read the header of a TSV log, or the first lines of a JSON log, without reading the rest."""
    header = ZeekHeader()
    samples: list[dict[str, Any]] = []
    file = CountingFile(path)
    skipped = 0
    lines_read = 0
    blank_only = True
    try:
        for raw in _head_lines(file):
            lines_read += 1
            line = raw.decode("utf-8", errors="replace").rstrip("\r")
            if not line.strip():
                continue
            blank_only = False
            if line.startswith("#") and not samples:
                header = header.with_line(line)
                continue
            if header.fields:
                break
            value = _json_object(line)
            if value is not None:
                samples.append(value)
            else:
                # A TSV data line before the '#fields' header: keep looking for it.
                skipped += 1
            if len(samples) >= sample_lines or skipped >= sample_lines:
                break
    finally:
        file.close()
    if header.fields:
        fields = [(name, sql_type(kind), kind) for name, kind in header.field_types()]
        return LogFile(path, "tsv", header.path or _log_type_from_name(path), fields)
    if samples:
        path_value = samples[0].get("_path")
        log_type = path_value if isinstance(path_value, str) else _log_type_from_name(path)
        return LogFile(path, "json", log_type, json_schema(samples))
    if blank_only:
        content = "is empty" if lines_read == 0 else "contains only blank lines"
        message = (
            f"'{path}' is not a Zeek log: the file {content}; point 'path' at logs "
            "with a '#fields' header or JSON objects"
        )
        raise SourceError(message)
    message = (
        f"'{path}' is not a Zeek log: it has no '#fields' header and its first line is "
        "not a JSON object"
    )
    raise SourceError(message)


def _json_object(line: str) -> dict[str, Any] | None:
    if not line.lstrip().startswith("{"):
        return None
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _head_lines(file: CountingFile) -> Iterator[bytes]:
    pending = b""
    while True:
        chunk = file.read(1 << 16)
        if not chunk:
            if pending:
                yield pending
            return
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from complete


def json_schema(samples: list[dict[str, Any]]) -> list[tuple[str, DataType, str]]:
    """Return (name, SQL type, note) per key of sampled JSON records, in order of appearance.

    ``ts`` is TIMESTAMP(6) and the ports of ``id`` are INT, as in TSV logs.
    Other types come from the sampled values by
    :func:`workbench.events.infer.infer_type`: true/false is BOOLEAN, whole
    numbers BIGINT, numbers with a fraction in any sampled record DOUBLE,
    strings STRING and arrays ARRAY of their elements' type. Zeek leaves
    unset fields out, so a key that no sampled record has is not a column.
    """
    values: dict[str, list[Any]] = {}
    for record in samples:
        for key, value in _flat_items(record):
            values.setdefault(key, []).append(value)
    fields: list[tuple[str, DataType, str]] = []
    for key, items in values.items():
        known = _JSON_TYPES.get(key)
        kind = known or infer_type(pd.Series(items, dtype=object))
        note = "as in TSV logs" if known else f"inferred from {len(samples)} JSON records"
        fields.append((key, kind, note))
    return fields


def _flat_items(record: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield dotted keys and values; nested objects ({"id": {"orig_h": ...}}) flatten."""
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from _flat_items(value, name + ".")
        else:
            yield name, value


# Nesting dotted names -----------------------------------------------------------


@dataclass
class _Node:
    """A column in the making: a leaf field or a ROW of child nodes."""

    name: str
    leaf: tuple[str, DataType, str] | None = None
    children: dict[str, _Node] = field(default_factory=dict)


def nested_columns(fields: list[tuple[str, DataType, str]]) -> list[tuple[str, list[str]]]:
    """Return each top-level column name with the dotted field names it is built from."""
    return [(column.name, _leaf_names(node)) for column, node in _nest(fields)]


def nested_schema(fields: list[tuple[str, DataType, str]]) -> Schema:
    """Return the columns of Zeek fields, dotted names nested as ROW columns."""
    return Schema(tuple(column for column, _ in _nest(fields)))


def _nest(fields: list[tuple[str, DataType, str]]) -> list[tuple[Column, _Node]]:
    root = _Node("")
    flat: list[tuple[str, DataType, str]] = []
    prefixes = {name.split(".", 1)[0] for name, _, _ in fields if "." in name}
    plain = {name for name, _, _ in fields if "." not in name}
    clashes = prefixes & plain
    for item in fields:
        name = item[0]
        if name.split(".", 1)[0] in clashes or name.endswith(".") or ".." in name:
            flat.append(item)
            root.children[name] = _Node(name, leaf=item)
            continue
        node = root
        parts = name.split(".")
        for part in parts[:-1]:
            node = node.children.setdefault(part, _Node(part))
            if node.leaf is not None:
                break
        else:
            node.children[parts[-1]] = _Node(parts[-1], leaf=item)
    return [(_column(node), node) for node in root.children.values()]


def _column(node: _Node) -> Column:
    if node.leaf is not None:
        name, kind, note = node.leaf
        comment = f"Zeek field {name} ({_type_note(note)})"
        if name == "ts":
            comment = f"event time: Zeek field ts ({_type_note(note)})"
        return Column(node.name, kind, comment)
    return Column(node.name, _row_type(node), "Zeek fields " + ", ".join(_leaf_notes(node)))


def _row_type(node: _Node) -> DataType:
    fields: list[tuple[str, DataType]] = []
    for child in node.children.values():
        if child.leaf is not None:
            fields.append((child.name, child.leaf[1]))
        else:
            fields.append((child.name, _row_type(child)))
    return t.row(fields)


def _leaf_names(node: _Node) -> list[str]:
    if node.leaf is not None:
        return [node.leaf[0]]
    return [name for child in node.children.values() for name in _leaf_names(child)]


def _leaf_notes(node: _Node) -> list[str]:
    if node.leaf is not None:
        return [f"{node.leaf[0]} ({_type_note(node.leaf[2])})"]
    return [note for child in node.children.values() for note in _leaf_notes(child)]


# Connector functions ------------------------------------------------------------


def _sample_lines(options: Mapping[str, str]) -> int:
    text = options.get(SAMPLE_OPTION)
    if text is None:
        return DEFAULT_SAMPLE_LINES
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if value < 1:
        message = (
            f"invalid value {text!r} for option '{SAMPLE_OPTION}': use a positive number "
            "of lines, such as '1000'"
        )
        raise SourceError(message)
    return value


def validate_zeek(options: Mapping[str, str]) -> None:
    _sample_lines(options)


def inspect_logs(paths: list[Path], sample_lines: int) -> list[LogFile]:
    """Inspect every file and raise SourceError when their log types differ."""
    logs = [inspect_log(path, sample_lines) for path in paths]
    first = logs[0]
    for log in logs[1:]:
        if log.log_type != first.log_type:
            message = (
                f"Zeek logs of different types under one path: '{first.path}' is a "
                f"{first.log_type!r} log and '{log.path}' a {log.log_type!r} log; point "
                "'path' at files of one log type"
            )
            raise SourceError(message)
    return logs


def zeek_schema(options: Mapping[str, str]) -> Schema:
    """Return the columns of the Zeek logs named by 'path', from the first file's header.

    A relative 'path' resolves against the current directory; a session
    passes it already resolved against its base directory.
    """
    paths = resolve_paths(options["path"])
    logs = inspect_logs(paths, _sample_lines(options))
    return nested_schema(logs[0].fields)


def open_zeek(
    name: str, paths: list[Path], schema: Schema, options: Mapping[str, str], chunk_rows: int
) -> Reader:
    logs = inspect_logs(paths, _sample_lines(options))
    return ZeekReader(name, paths, schema, chunk_rows=chunk_rows, log_type=logs[0].log_type)


# Reader ---------------------------------------------------------------------------


class ZeekReader(LogReader):
    """Reads Zeek TSV and JSON logs (gzip-compressed when named '*.gz'), see the module text.

    These lines are rejected with the line number and the reason: a data
    line with more or fewer fields than its '#fields' header, a value that
    does not parse as its type, and a line of a JSON log that is not a JSON
    object. Data lines after a header block of another log type (another
    '#path') are rejected too, because their fields need not match the table's.
    """

    def __init__(
        self,
        name: str,
        paths: list[Path],
        schema: Schema,
        *,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        log_type: str | None = None,
        block_bytes: int = DEFAULT_BLOCK_BYTES,
    ) -> None:
        super().__init__(name, paths, schema, chunk_rows=chunk_rows, block_bytes=block_bytes)
        self.log_type = log_type
        self._header = ZeekHeader()
        self._layout: str | None = None
        self._other_type: str | None = None
        self._leaves = _schema_leaves(schema)

    def _start_file(self, file: CountingFile) -> None:
        self._header = ZeekHeader()
        self._layout = None
        self._other_type = None

    def _parse(self, lines: Lines, file: CountingFile) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        if self._layout is None:
            first = lines.raw(0).lstrip()
            self._layout = "json" if first.startswith("{") else "tsv"
        if self._layout == "json":
            yield from self._parse_json(lines)
            return
        headers = np.asarray(
            pc.starts_with(lines.text, "#").to_numpy(zero_copy_only=False), dtype=bool
        )
        self.counters.lines_skipped += int(headers.sum())
        edges = np.unique(np.concatenate([[0, len(lines)], np.flatnonzero(headers)])).tolist()
        for begin, end in itertools.pairwise(edges):
            first_data = begin
            if headers[begin]:
                self._read_header(lines.raw(begin), file)
                first_data = begin + 1
            if first_data < end:
                positions = np.arange(first_data, end, dtype=np.int64)
                yield from self._parse_tsv(lines, positions)

    def _read_header(self, line: str, file: CountingFile) -> None:
        before = self._header
        self._header = before.with_line(line)
        if self._header.path != before.path and self._header.path is not None:
            expected = self.log_type
            other = self._header.path
            self._other_type = other if expected is not None and other != expected else None
            if self._other_type is not None:
                logger.warning(
                    "%s: %s has a header block of log type %r in a %r log; its data lines "
                    "are rejected",
                    self.name,
                    file.path,
                    other,
                    expected,
                )

    # TSV ------------------------------------------------------------------------

    def _parse_tsv(
        self, lines: Lines, positions: np.ndarray
    ) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        header = self._header
        if not header.fields or self._other_type is not None:
            if not header.fields:
                reason = "data line before the '#fields' header"
            else:
                reason = (
                    f"data line of a {self._other_type!r} log in a {self.log_type!r} log "
                    "(a '#path' header changed the log type)"
                )
            self._reject(lines, positions, [reason] * len(positions))
            return

        text = lines.text.take(pa.array(positions))
        parts = pc.split_pattern(text, header.separator)
        counts = np.asarray(pc.list_value_length(parts).to_numpy(zero_copy_only=False))
        expected = len(header.fields)
        wrong = counts != expected
        if wrong.any():
            reasons = [
                f"expected {expected} fields (as in the '#fields' header), found {int(found)}"
                for found in counts[wrong]
            ]
            self._reject(lines, positions[wrong], reasons)
            parts = parts.filter(pa.array(~wrong))
            positions = positions[~wrong]
        if not len(positions):
            return

        # Every list now has one item per field, so field i of row r is flat item r * fields + i.
        flat = pc.list_flatten(parts)
        starts = np.arange(len(positions), dtype=np.int64) * expected
        failures: dict[int, str] = {}
        values: dict[str, Any] = {}
        for index, (name, kind) in enumerate(header.field_types()):
            column = flat.take(pa.array(starts + index))
            values[name] = self._tsv_values(name, kind, column, failures)
        yield from self._emit(lines, positions, values, failures, header.field_types())

    def _tsv_values(
        self, name: str, zeek_type: str, column: pa.Array, failures: dict[int, str]
    ) -> Any:
        """Return one field's values in a form the conform step accepts."""
        header = self._header
        unset = pc.equal(column, header.unset_field)
        present = pc.if_else(unset, pa.scalar(None, column.type), column)
        kind = zeek_type.strip()
        if kind.startswith(_CONTAINERS):
            return _container_values(present, _element_type(kind), header)
        if kind == "time":
            ns, valid = _time_ns(present)
            bad = np.flatnonzero(~valid & np.asarray(present.is_valid()))
            for position in bad.tolist():
                failures.setdefault(
                    position,
                    f"field '{name}': invalid Zeek time value {present[position].as_py()!r}",
                )
            return timestamp_series(ns, valid)
        if kind == "bool":
            return _bool_values(present)
        if kind in _SCALAR_TYPES:
            return string_series(present)
        return string_series(map_texts(present, "\\x", unescape_hex))

    # JSON ---------------------------------------------------------------------

    def _parse_json(self, lines: Lines) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        objects: list[dict[str, Any]] = []
        object_positions: list[int] = []
        rejected: list[int] = []
        reasons: list[str] = []
        for position, line in enumerate(lines.text.to_pylist()):
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                rejected.append(position)
                reasons.append("invalid JSON: " + _LINE_ONE.sub(r"column \1", str(error)))
                continue
            if not isinstance(value, dict):
                rejected.append(position)
                kind = _JSON_KINDS.get(type(value), type(value).__name__)
                reasons.append(f"expected a JSON object, found {kind}")
                continue
            objects.append(value)
            object_positions.append(position)
        if rejected:
            self._reject(lines, np.array(rejected, dtype=np.int64), reasons)
        if not objects:
            return

        positions = np.array(object_positions, dtype=np.int64)
        failures: dict[int, str] = {}
        values: dict[str, Any] = {}
        flat = [dict(_flat_items(record)) for record in objects]
        for name, sql_kind in self._leaves:
            items = [record.get(name) for record in flat]
            values[name] = _json_values(name, sql_kind, items, failures)
        yield from self._emit(lines, positions, values, failures, None)

    # Output -------------------------------------------------------------------

    def _emit(
        self,
        lines: Lines,
        positions: np.ndarray,
        values: dict[str, Any],
        failures: dict[int, str],
        field_types: list[tuple[str, str]] | None,
    ) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        """Reject rows with failed fields, nest dotted names and yield the frame."""
        keep = np.ones(len(positions), dtype=bool)
        if failures:
            bad = np.array(sorted(failures), dtype=np.int64)
            self._reject(lines, positions[bad], [failures[i] for i in bad.tolist()])
            keep[bad] = False
        if field_types is None:
            fields = [(name, t.STRING, "") for name in values]
        else:
            fields = [(name, t.STRING, kind) for name, kind in field_types]
        columns: dict[str, Any] = {}
        for column, names in nested_columns(fields):
            if len(names) == 1 and names[0] == column:
                columns[column] = _series(values[column])[keep].reset_index(drop=True)
            else:
                columns[column] = _rows(names, values, keep)
        yield pd.DataFrame(columns, index=pd.RangeIndex(int(keep.sum()))), positions[keep]


def _schema_leaves(schema: Schema) -> list[tuple[str, DataType]]:
    """Return the dotted field names and types of a schema's columns, ROW columns expanded."""
    leaves: list[tuple[str, DataType]] = []

    def walk(name: str, kind: DataType) -> None:
        if kind.kind is TypeKind.ROW:
            for item in kind.fields:
                walk(f"{name}.{item.name}", item.type)
        else:
            leaves.append((name, kind))

    for column in schema:
        walk(column.name, column.type)
    return leaves


def _series(values: Any) -> pd.Series:
    if isinstance(values, pd.Series):
        return values
    return pd.Series(values, dtype=object)


def _rows(names: list[str], values: dict[str, Any], keep: np.ndarray) -> pd.Series:
    """Return dicts (nested for deeper dots) of the fields under one column, for the kept rows."""
    paths = [name.split(".")[1:] for name in names]
    if all(len(path) == 1 for path in paths):
        try:
            arrays = [pa.array(_series(values[name])[keep], from_pandas=True) for name in names]
            struct = pa.StructArray.from_arrays(arrays, names=[path[0] for path in paths])
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
        else:
            # Arrow builds the dicts in C++; mixed Python values take the loop below.
            return pd.Series(struct.to_pylist(), dtype=object)
    lists = [_python_values(_series(values[name])[keep]) for name in names]
    rows: list[dict[str, Any]] = []
    for row_values in zip(*lists, strict=True):
        row: dict[str, Any] = {}
        for path, value in zip(paths, row_values, strict=True):
            target = row
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = value
        rows.append(row)
    return pd.Series(rows, dtype=object)


def _python_values(values: pd.Series) -> list[Any]:
    """Return a column as Python values, None for null."""
    if values.dtype.kind == "M":
        return [None if pd.isna(value) else value for value in values.tolist()]
    objects = values.astype(object)
    return objects.where(values.notna(), None).tolist()


def _time_ns(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Return nanoseconds of Zeek time text (epoch seconds such as '1379288667.706265')."""
    parts = pc.extract_regex(pc.fill_null(text, ""), _TIME_TEXT)
    valid = matched(parts)
    fields = struct_fields(parts)
    negative = np.asarray(pc.equal(fields["sign"], "-").to_numpy(zero_copy_only=False), dtype=bool)
    magnitude = digits(fields["seconds"]) * NS_PER_SECOND + fraction_ns(fields["fraction"])
    ns = np.where(negative, -magnitude, magnitude)
    limit = np.iinfo(np.int64).max // 2
    valid &= np.abs(ns) < limit
    return np.where(valid, ns, 0), valid


def _bool_values(text: pa.Array) -> pd.Series:
    """Return T and F as True and False; other text stays, so the conform step rejects it."""
    items = text.to_pylist()
    return pd.Series([_BOOLEANS.get(item, item) if item is not None else None for item in items])


_BOOLEANS: dict[str, bool] = {"T": True, "F": False}
#: orjson's position text; each record is one line, so only the column matters.
_LINE_ONE = re.compile(r"line 1 column (\d+) \(char \d+\)")
_JSON_KINDS: dict[type, str] = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def _container_values(text: pa.Array, element_type: str, header: ZeekHeader) -> pd.Series:
    """Return sets and vectors as lists of element values, the empty field as []."""
    result: list[list[Any] | None] = []
    separator = header.set_separator
    element = element_type.strip()
    for item in text.to_pylist():
        if item is None:
            result.append(None)
        elif item == header.empty_field:
            result.append([])
        else:
            result.append([_element(part, element, header) for part in item.split(separator)])
    return pd.Series(result, dtype=object)


def _element(text: str, zeek_type: str, header: ZeekHeader) -> Any:
    if text == header.unset_field:
        return None
    if zeek_type == "bool":
        return _BOOLEANS.get(text, text)
    if zeek_type == "time":
        ns, valid = _time_ns(pa.array([text]))
        return pd.Timestamp(int(ns[0])) if valid[0] else text
    return unescape_hex(text)


def _json_values(name: str, kind: DataType, items: list[Any], failures: dict[int, str]) -> Any:
    """Return one JSON field's values; timestamps given as epoch seconds become datetimes."""
    if not kind.is_timestamp:
        return pd.Series(items, dtype=object)
    ns = np.zeros(len(items), dtype=np.int64)
    valid = np.zeros(len(items), dtype=bool)
    texts: dict[int, str] = {}
    for position, item in enumerate(items):
        if isinstance(item, bool) or item is None:
            if item is not None:
                failures.setdefault(position, f"field '{name}': invalid time value {item!r}")
            continue
        if isinstance(item, (int, float)) and np.isfinite(item) and abs(item) < 9.2e9:
            ns[position] = round(item * NS_PER_SECOND)
            valid[position] = True
        elif isinstance(item, str):
            texts[position] = item
        else:
            failures.setdefault(position, f"field '{name}': invalid time value {item!r}")
    if texts:
        parsed = pd.to_datetime(
            pd.Series(list(texts.values())), errors="coerce", utc=True, format="ISO8601"
        )
        instants = parsed.dt.tz_localize(None).astype("datetime64[ns]").to_numpy()
        for position, instant in zip(texts, instants.view(np.int64).tolist(), strict=True):
            if instant == NAT:
                failures.setdefault(
                    position, f"field '{name}': invalid time value {texts[position]!r}"
                )
            else:
                ns[position] = instant
                valid[position] = True
    return timestamp_series(ns, valid)
