"""DuckDB sink: appends or upserts rows in a table, one transaction per write.

Without a primary key the sink appends. With one (the DDL's ``PRIMARY KEY
(...) NOT ENFORCED``), each batch deletes the rows of the keys it changes and
inserts their new rows, so the table contains the latest row per key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd

from workbench.errors import SinkError
from workbench.events.schema import Schema
from workbench.events.types import DataType, TypeKind
from workbench.sinks.arrow_types import arrow_table
from workbench.sinks.base import BaseSink

_SCALAR_TYPES = {
    TypeKind.NULL: "VARCHAR",
    TypeKind.BOOLEAN: "BOOLEAN",
    TypeKind.TINYINT: "TINYINT",
    TypeKind.SMALLINT: "SMALLINT",
    TypeKind.INT: "INTEGER",
    TypeKind.BIGINT: "BIGINT",
    TypeKind.FLOAT: "FLOAT",
    TypeKind.DOUBLE: "DOUBLE",
    TypeKind.VARCHAR: "VARCHAR",
    TypeKind.BINARY: "BLOB",
    TypeKind.DATE: "DATE",
    TypeKind.TIME: "TIME",
    TypeKind.TIMESTAMP_LTZ: "TIMESTAMPTZ",
    TypeKind.INTERVAL: "INTERVAL",
}
_BATCH_VIEW = "workbench_sink_batch"
_KEYS_VIEW = "workbench_sink_keys"
# Timestamp columns of any unit take each other's values by implicit cast,
# so an existing column of another unit counts as compatible.
_TIMESTAMP_FAMILY = frozenset({"TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"})


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def duckdb_type(dtype: DataType) -> str:
    """Return the DuckDB column type that stores values of ``dtype``."""
    kind = dtype.kind
    if kind in _SCALAR_TYPES:
        return _SCALAR_TYPES[kind]
    if kind is TypeKind.DECIMAL:
        return f"DECIMAL({dtype.precision or 10},{dtype.scale or 0})"
    if kind is TypeKind.TIMESTAMP:
        return "TIMESTAMP_NS" if (dtype.precision or 3) > 6 else "TIMESTAMP"
    if kind is TypeKind.ROW:
        fields = ", ".join(
            f"{quote_identifier(f.name)} {duckdb_type(f.type)}" for f in dtype.fields
        )
        return f"STRUCT({fields})"
    if kind is TypeKind.ARRAY:
        assert dtype.element is not None
        return f"{duckdb_type(dtype.element)}[]"
    assert kind is TypeKind.MAP
    assert dtype.key is not None
    assert dtype.value is not None
    return f"MAP({duckdb_type(dtype.key)}, {duckdb_type(dtype.value)})"


def _normalized(type_text: str) -> str:
    text = re.sub(r"\s+", "", type_text.upper()).replace('"', "")
    return "TIMESTAMP" if text in _TIMESTAMP_FAMILY else text


class DuckDBSink(BaseSink):
    """Writes rows to a DuckDB table, creating it with types mapped from the schema.

    A new table gets the sink's primary key as its PRIMARY KEY constraint.
    """

    errors = (duckdb.Error, OSError, ValueError, TypeError)

    def __init__(
        self, name: str, path: Path, table: str, *, primary_key: Sequence[str] = ()
    ) -> None:
        super().__init__(name, primary_key=primary_key)
        self.path = path
        self.table = table
        self._connection: duckdb.DuckDBPyConnection | None = None

    def _open(self, schema: Schema) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = duckdb.connect(str(self.path))
        try:
            self._prepare_table(connection, schema)
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    def _prepare_table(self, connection: duckdb.DuckDBPyConnection, schema: Schema) -> None:
        existing = connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' AND lower(table_name) = lower(?) "
            "ORDER BY ordinal_position",
            [self.table],
        ).fetchall()
        if not existing:
            columns = [f"{quote_identifier(c.name)} {duckdb_type(c.type)}" for c in schema]
            if self.primary_key:
                key = ", ".join(quote_identifier(name) for name in self.primary_key)
                columns.append(f"PRIMARY KEY ({key})")
            connection.execute(
                f"CREATE TABLE {quote_identifier(self.table)} ({', '.join(columns)})"
            )
            return
        differences = self._differences(connection, schema, dict(existing))
        if differences:
            message = (
                f"sink '{self.name}': table '{self.table}' in {self.path} has incompatible "
                f"columns: {'; '.join(differences)}. Drop the table or use another 'table-name'"
            )
            raise SinkError(message)

    def _differences(
        self, connection: duckdb.DuckDBPyConnection, schema: Schema, existing: dict[str, str]
    ) -> list[str]:
        by_lower = {name.lower(): (name, kind) for name, kind in existing.items()}
        differences: list[str] = []
        for column in schema:
            found = by_lower.get(column.name.lower())
            expected = duckdb_type(column.type)
            if found is None:
                differences.append(f"column '{column.name}' ({expected}) is missing")
                continue
            canonical = connection.execute(f"SELECT typeof(CAST(NULL AS {expected}))").fetchall()
            canonical_type = str(canonical[0][0]) if canonical else expected
            if _normalized(found[1]) != _normalized(canonical_type):
                differences.append(f"column '{found[0]}' is {found[1]}, expected {canonical_type}")
        return differences

    def _write(self, frame: pd.DataFrame) -> None:
        connection = self._connection
        assert connection is not None
        table = arrow_table(frame, self.schema)
        names = ", ".join(quote_identifier(name) for name in self.schema.names)
        connection.register(_BATCH_VIEW, table)
        try:
            connection.begin()
            try:
                connection.execute(
                    f"INSERT INTO {quote_identifier(self.table)} ({names}) "
                    f"SELECT {names} FROM {_BATCH_VIEW}"
                )
                connection.commit()
            except BaseException:
                connection.rollback()
                raise
        finally:
            connection.unregister(_BATCH_VIEW)

    def _upsert(self, rows: pd.DataFrame, deleted_keys: pd.DataFrame) -> None:
        connection = self._connection
        assert connection is not None
        schema = self.schema
        key_schema = Schema(tuple(c for c in schema if c.name in self.primary_key))
        key_names = list(key_schema.names)
        # Every key the batch touches is deleted first, so the insert that
        # follows never meets an old row of its key.
        keys = pd.concat([rows[key_names], deleted_keys[key_names]], ignore_index=True)

        table = quote_identifier(self.table)
        match = " AND ".join(
            f"{table}.{quote_identifier(name)} IS NOT DISTINCT FROM "
            f"{_KEYS_VIEW}.{quote_identifier(name)}"
            for name in key_names
        )
        names = ", ".join(quote_identifier(name) for name in schema.names)

        connection.register(_KEYS_VIEW, arrow_table(keys, key_schema))
        connection.register(_BATCH_VIEW, arrow_table(rows.reset_index(drop=True), schema))
        try:
            connection.begin()
            try:
                connection.execute(f"DELETE FROM {table} USING {_KEYS_VIEW} WHERE {match}")
                if len(rows):
                    connection.execute(
                        f"INSERT INTO {table} ({names}) SELECT {names} FROM {_BATCH_VIEW}"
                    )
                connection.commit()
            except BaseException:
                connection.rollback()
                raise
        finally:
            connection.unregister(_KEYS_VIEW)
            connection.unregister(_BATCH_VIEW)

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
