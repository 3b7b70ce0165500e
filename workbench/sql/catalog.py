"""The catalog: tables and views a session knows, looked up by name."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import pandas as pd
from sqlglot import exp

from workbench.events.schema import Schema
from workbench.sources.live import is_live_connector
from workbench.sql.plan import WatermarkSpec


@dataclass
class TableDef:
    """A table: its columns, event time, and where its rows come from or go to.

    ``physical`` are the columns a reader produces; ``schema`` adds computed
    columns and marks time attributes. ``computed`` holds each computed
    column's parsed expression, compiled when a query reads the table.
    ``frame`` is set for tables registered from a pandas DataFrame.
    """

    name: str
    physical: Schema
    schema: Schema
    options: dict[str, str] = field(default_factory=dict)
    computed: list[tuple[str, exp.Expr]] = field(default_factory=list)
    watermark: WatermarkSpec | None = None
    proctime: str | None = None
    primary_key: tuple[str, ...] = ()
    temporary: bool = False
    ddl: str | None = None
    script: str = ""
    frame: pd.DataFrame | None = None

    @property
    def connector(self) -> str:
        if self.frame is not None:
            return "pandas"
        return self.options.get("connector", "")

    @property
    def bounded(self) -> bool:
        """Whether the table is a recording with an end (files, DataFrames), not a live feed."""
        return not is_live_connector(self.connector)


@dataclass
class ViewDef:
    name: str
    query: exp.Expr
    script: str
    text: str
    schema: Schema
    column_names: tuple[str, ...] = ()


Entry = TableDef | ViewDef


class Catalog:
    """Tables and views by name. Lookups match exactly first, then ignoring case."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}

    def lookup(self, name: str) -> Entry | None:
        if name in self.entries:
            return self.entries[name]
        matches = [entry for key, entry in self.entries.items() if key.lower() == name.lower()]
        return matches[0] if len(matches) == 1 else None

    def suggestion(self, name: str) -> str | None:
        """Return a hint naming the closest known table or view, if any."""
        close = difflib.get_close_matches(name, list(self.entries), n=1, cutoff=0.6)
        if close:
            return f"did you mean {close[0]!r}?"
        if self.entries:
            return "known tables and views: " + ", ".join(sorted(self.entries))
        return "no table is defined yet: create one with CREATE TABLE ... WITH ('connector' = ...)"

    def add(self, entry: Entry, *, replace: bool = False) -> None:
        existing = self.lookup(entry.name)
        if existing is not None and not replace:
            raise KeyError(existing.name)
        if existing is not None:
            del self.entries[existing.name]
        self.entries[entry.name] = entry

    def drop(self, name: str) -> Entry | None:
        existing = self.lookup(name)
        if existing is not None:
            del self.entries[existing.name]
        return existing

    def tables(self) -> list[TableDef]:
        return [entry for entry in self.entries.values() if isinstance(entry, TableDef)]

    def views(self) -> list[ViewDef]:
        return [entry for entry in self.entries.values() if isinstance(entry, ViewDef)]

    def names(self) -> list[str]:
        return sorted(self.entries)
