"""SQLite sink: appends or upserts rows with executemany, one transaction per write.

With a primary key, each batch deletes the rows of the keys it changes and
inserts their new rows, so the table contains the latest row per key.

Integers and booleans are INTEGER, floats and decimals REAL, text TEXT and
bytes BLOB. Timestamps, dates and times are ISO text ('2020-01-01
10:00:00.000'), which SQLite's date and time functions read, and nested
values are JSON text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from workbench.errors import SinkError
from workbench.events.schema import Column, Schema
from workbench.events.types import DataType, TypeKind
from workbench.sinks.base import BaseSink
from workbench.sinks.formatting import python_column

_INTEGER_KINDS = frozenset(
    {TypeKind.BOOLEAN, TypeKind.TINYINT, TypeKind.SMALLINT, TypeKind.INT, TypeKind.BIGINT}
)
_REAL_KINDS = frozenset({TypeKind.FLOAT, TypeKind.DOUBLE, TypeKind.DECIMAL})


def sqlite_type(dtype: DataType) -> str:
    if dtype.kind in _INTEGER_KINDS:
        return "INTEGER"
    if dtype.kind in _REAL_KINDS:
        return "REAL"
    if dtype.kind is TypeKind.BINARY:
        return "BLOB"
    return "TEXT"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SQLiteSink(BaseSink):
    """Writes rows to a SQLite table, creating it from the schema if missing.

    A new table gets the sink's primary key as its PRIMARY KEY constraint.
    """

    errors = (sqlite3.Error, OSError, ValueError, TypeError, OverflowError)

    def __init__(
        self, name: str, path: Path, table: str, *, primary_key: Sequence[str] = ()
    ) -> None:
        super().__init__(name, primary_key=primary_key)
        self.path = path
        self.table = table
        self._connection: sqlite3.Connection | None = None

    def _open(self, schema: Schema) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, isolation_level=None)
        try:
            self._prepare_table(connection, schema)
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    def _prepare_table(self, connection: sqlite3.Connection, schema: Schema) -> None:
        existing = connection.execute(f"PRAGMA table_info({_quote(self.table)})").fetchall()
        if not existing:
            columns = [f"{_quote(c.name)} {sqlite_type(c.type)}" for c in schema]
            if self.primary_key:
                columns.append(f"PRIMARY KEY ({', '.join(map(_quote, self.primary_key))})")
            connection.execute(f"CREATE TABLE {_quote(self.table)} ({', '.join(columns)})")
            return
        declared = {row[1].lower(): (row[1], str(row[2]).upper()) for row in existing}
        differences: list[str] = []
        for column in schema:
            expected = sqlite_type(column.type)
            found = declared.get(column.name.lower())
            if found is None:
                differences.append(f"column '{column.name}' ({expected}) is missing")
            elif affinity(found[1]) != affinity(expected):
                differences.append(f"column '{found[0]}' is {found[1]}, expected {expected}")
        if differences:
            message = (
                f"sink '{self.name}': table '{self.table}' in {self.path} has incompatible "
                f"columns: {'; '.join(differences)}. Drop the table or use another 'table-name'"
            )
            raise SinkError(message)

    def _values(self, frame: pd.DataFrame, columns: Sequence[Column]) -> list[list[object]]:
        """Return the frame's ``columns`` as lists of SQLite values."""
        values = [python_column(frame[c.name], c.type, nested_as_text=True) for c in columns]
        for position, column in enumerate(columns):
            if column.type.kind is TypeKind.BOOLEAN:
                values[position] = [None if v is None else int(v) for v in values[position]]
        return values

    def _insert_statement(self) -> str:
        names = ", ".join(_quote(name) for name in self.schema.names)
        marks = ", ".join("?" for _ in self.schema.names)
        return f"INSERT INTO {_quote(self.table)} ({names}) VALUES ({marks})"

    def _write(self, frame: pd.DataFrame) -> None:
        connection = self._connection
        assert connection is not None
        columns = self._values(frame, list(self.schema))
        connection.execute("BEGIN")
        try:
            connection.executemany(self._insert_statement(), zip(*columns, strict=True))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def _upsert(self, rows: pd.DataFrame, deleted_keys: pd.DataFrame) -> None:
        connection = self._connection
        assert connection is not None
        by_name = {column.name: column for column in self.schema}
        key_columns = [by_name[name] for name in self.primary_key]
        columns = self._values(rows, list(self.schema))
        keys = [
            *zip(*self._values(rows, key_columns), strict=True),
            *zip(*self._values(deleted_keys, key_columns), strict=True),
        ]
        # IS matches NULL to NULL, so a NULL key replaces its earlier row.
        match = " AND ".join(f"{_quote(name)} IS ?" for name in self.primary_key)
        connection.execute("BEGIN")
        try:
            connection.executemany(f"DELETE FROM {_quote(self.table)} WHERE {match}", keys)
            connection.executemany(self._insert_statement(), zip(*columns, strict=True))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def affinity(declared: str) -> str:
    """Return SQLite's type affinity of a declared column type (section 3.1 of its datatype rules).

    Columns of the same affinity store values alike, so INT and INTEGER, or
    VARCHAR(20) and TEXT, are interchangeable for a sink.
    """
    text = declared.upper()
    if "INT" in text:
        return "INTEGER"
    if any(part in text for part in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if not text or "BLOB" in text:
        return "BLOB"
    if any(part in text for part in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"
