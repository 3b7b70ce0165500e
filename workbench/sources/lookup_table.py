"""Keyed reads from a DuckDB or SQLite table, for lookup joins.

A lookup fetches, in one query, every row whose key columns equal one of
the requested key tuples. The connection opens on the first lookup and is
never pickled with an operator's state.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from workbench.errors import SourceError

#: Key tuples per query: SQLite allows 32,766 parameters in one statement since 3.32.
KEYS_PER_QUERY = 500


class LookupTable:
    """A table in a DuckDB or SQLite database file, read by key."""

    def __init__(self, connector: str, path: str, table: str, columns: Sequence[str]) -> None:
        if connector not in ("duckdb", "sqlite"):
            raise ValueError(f"invalid lookup connector {connector!r}: use 'duckdb' or 'sqlite'")
        self.connector = connector
        self.path = path
        self.table = table
        self.columns = list(columns)
        self._connection: Any = None

    def fetch(self, key_columns: Sequence[str], keys: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
        """Return the table's rows whose ``key_columns`` equal one of ``keys``."""
        frames = []
        for start in range(0, len(keys), KEYS_PER_QUERY):
            frames.append(self._fetch(key_columns, keys[start : start + KEYS_PER_QUERY]))
        if not frames:
            return pd.DataFrame(columns=self.columns)
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    def _fetch(self, key_columns: Sequence[str], keys: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
        match = " AND ".join(f"{_quote(column)} = ?" for column in key_columns)
        where = " OR ".join(f"({match})" for _ in keys)
        selected = ", ".join(_quote(column) for column in self.columns)
        query = f"SELECT {selected} FROM {_quote(self.table)} WHERE {where}"
        parameters = [_parameter(value) for key in keys for value in key]
        try:
            cursor = self._connect().execute(query, parameters)
            rows = cursor.fetchall()
        except Exception as error:
            raise SourceError(
                f"lookup in {self.connector} table {self.table!r} of {self.path} failed: {error}"
            ) from error
        return pd.DataFrame.from_records(rows, columns=self.columns)

    def _connect(self) -> Any:
        if self._connection is not None:
            return self._connection
        if not Path(self.path).exists():
            raise SourceError(f"lookup database {self.path} not found")
        if self.connector == "duckdb":
            try:
                self._connection = duckdb.connect(self.path, read_only=True)
            except duckdb.ConnectionException:
                # This process already holds the file open for writing (a DuckDB sink).
                self._connection = duckdb.connect(self.path)
        else:
            self._connection = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, check_same_thread=False
            )
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _parameter(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    return value
