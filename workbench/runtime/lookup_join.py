"""Lookup joins: each input row reads its partners from a DuckDB or SQLite table.

A batch looks up each distinct key once: from the cache when it contains the
key, otherwise with one query for all missing keys. The table is read when
the batch arrives (processing time), so a row joins the table's content at
that moment, as in Flink. A LEFT join pads a row without partners with
NULLs. Output rows keep their input row's watermark and order.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pandas as pd

from workbench.events.batch import Batch
from workbench.runtime.columns import series_from_values
from workbench.runtime.joins import null_frame, pair_frame
from workbench.runtime.operator import Operator, output_batch
from workbench.runtime.slots import factorize_rows, key_value
from workbench.sources.lookup_table import LookupTable
from workbench.sql.evaluate import EvalContext, evaluate, evaluate_predicate
from workbench.sql.plan import LookupJoin


class LookupCache:
    """Looked-up rows per key, least recently used first, with write and access expiry."""

    def __init__(
        self, max_rows: int, after_write_ns: int, after_access_ns: int, clock: Callable[[], int]
    ) -> None:
        self.max_rows = max_rows
        self.after_write_ns = after_write_ns
        self.after_access_ns = after_access_ns
        self.clock = clock
        # key -> (rows, written at, last read at)
        self.entries: OrderedDict[Hashable, tuple[pd.DataFrame, int, int]] = OrderedDict()

    def get(self, key: Hashable) -> pd.DataFrame | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        rows, written, _ = entry
        now = self.clock()
        expired = (self.after_write_ns and now - written >= self.after_write_ns) or (
            self.after_access_ns and now - entry[2] >= self.after_access_ns
        )
        if expired:
            del self.entries[key]
            return None
        self.entries[key] = (rows, written, now)
        self.entries.move_to_end(key)
        return rows

    def put(self, key: Hashable, rows: pd.DataFrame) -> None:
        now = self.clock()
        self.entries[key] = (rows, now, now)
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_rows:
            self.entries.popitem(last=False)


class LookupJoinOperator(Operator):
    def __init__(
        self,
        name: str,
        node: LookupJoin,
        time_zone: str = "UTC",
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        super().__init__(name, node.schema)
        self.node = node
        self.time_zone = time_zone
        self.table = LookupTable(
            node.connector, node.path, node.table_name, node.table_schema.names
        )
        spec = node.cache
        self.cache = (
            LookupCache(
                spec.max_rows, spec.expire_after_write_ns, spec.expire_after_access_ns, clock
            )
            if spec.max_rows
            else None
        )
        #: Keys served from the cache, keys read from the table, and queries sent.
        self.cache_hits = 0
        self.cache_misses = 0
        self.lookups = 0

    def describe(self) -> str:
        return self.node.label()

    def process(self, batch: Batch, port: int) -> list[Batch]:
        if len(batch) == 0:
            return [output_batch(self.output_schema.empty_frame(), batch.row_watermarks, batch)]
        data = batch.data.reset_index(drop=True)
        context = EvalContext(
            now_ns=time.time_ns(), time_zone=self.time_zone, row_watermarks=batch.row_watermarks
        )
        keys = [evaluate(expression, data, context) for expression in self.node.left_keys]
        codes, first_rows = factorize_rows(keys)
        null = np.zeros(len(data), dtype=bool)
        for column in keys:
            null |= column.isna().to_numpy(dtype=bool)
        distinct = [
            tuple(key_value(column.iat[row]) for column in keys) for row in first_rows.tolist()
        ]
        found = self._rows_of(distinct)
        counts = np.array([len(rows) for rows in found], dtype=np.int64)
        counts = np.where(null, 0, counts[codes])
        starts = np.cumsum([0, *[len(rows) for rows in found]])[:-1]
        table_rows = (
            pd.concat(found, ignore_index=True) if any(len(rows) for rows in found) else None
        )
        probe = np.repeat(np.arange(len(data), dtype=np.int64), counts)
        firsts = np.cumsum(counts) - counts
        offsets = np.arange(len(probe), dtype=np.int64) - np.repeat(firsts, counts)
        matched = np.zeros(len(data), dtype=bool)
        parts: list[pd.DataFrame] = []
        order: list[np.ndarray] = []
        if len(probe) and table_rows is not None:
            build = np.repeat(starts[codes], counts) + offsets
            frame = pair_frame(data.take(probe), table_rows.take(build), self.node.right_names)
            if self.node.condition is not None:
                keep = evaluate_predicate(self.node.condition, frame, context)
                frame = frame[keep].reset_index(drop=True)
                probe = probe[keep]
            matched[probe] = True
            parts.append(frame)
            order.append(probe)
        if self.node.kind == "LEFT":
            lonely = np.flatnonzero(~matched)
            if len(lonely):
                padding = null_frame(self.node.table_schema.without_time_attributes(), len(lonely))
                parts.append(pair_frame(data.take(lonely), padding, self.node.right_names))
                order.append(lonely)
        if not parts:
            output = self.output_schema.empty_frame()
            rows = np.empty(0, dtype=np.int64)
        else:
            rows = np.concatenate(order)
            sort = np.argsort(rows, kind="stable")
            output = pd.concat(parts, ignore_index=True).iloc[sort].reset_index(drop=True)
            rows = rows[sort]
        return [
            Batch(
                output[self.output_schema.names],
                batch.row_watermarks[rows],
                batch.watermark,
                batch.ingest_ns,
                batch.final,
            )
        ]

    def _rows_of(self, keys: list[tuple[Any, ...]]) -> list[pd.DataFrame]:
        """Return the table rows of each key, from the cache or one query for the rest."""
        found: list[pd.DataFrame | None] = [None] * len(keys)
        missing: list[int] = []
        for index, key in enumerate(keys):
            if any(value is None for value in key):
                found[index] = self._empty()
                continue
            cached = self.cache.get(key) if self.cache is not None else None
            if cached is not None:
                self.cache_hits += 1
                found[index] = cached
            else:
                missing.append(index)
        if missing:
            self.cache_misses += len(missing)
            self.lookups += 1
            wanted = [keys[index] for index in missing]
            fetched = self._typed(self.table.fetch(self.node.lookup_columns, wanted))
            groups = self._by_key(fetched)
            for index in missing:
                rows = groups.get(keys[index], self._empty())
                found[index] = rows
                if self.cache is not None and (len(rows) or self.node.cache.cache_missing_key):
                    self.cache.put(keys[index], rows)
        return [rows if rows is not None else self._empty() for rows in found]

    def _by_key(self, rows: pd.DataFrame) -> dict[Hashable, pd.DataFrame]:
        if len(rows) == 0:
            return {}
        columns = [rows[column] for column in self.node.lookup_columns]
        codes, first_rows = factorize_rows(columns)
        order = np.argsort(codes, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(first_rows)))])
        groups: dict[Hashable, pd.DataFrame] = {}
        for code, first in enumerate(first_rows.tolist()):
            key = tuple(key_value(column.iat[first]) for column in columns)
            members = order[bounds[code] : bounds[code + 1]]
            groups[key] = rows.take(members).reset_index(drop=True)
        return groups

    def _typed(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Convert the database's values to the table's declared column types."""
        schema = self.node.table_schema
        return pd.DataFrame(
            {
                column.name: series_from_values(rows[column.name].tolist(), column.type)
                for column in schema.columns
            }
        )

    def _empty(self) -> pd.DataFrame:
        return self.node.table_schema.without_time_attributes().empty_frame()

    def snapshot(self) -> dict[str, Any]:
        # The cache is not state: a restored job looks its keys up again, as Flink does.
        state = super().snapshot()
        state.update(
            {
                "cache_hits": self.cache_hits,
                "cache_misses": self.cache_misses,
                "lookups": self.lookups,
            }
        )
        return state

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        self.cache_hits = state.get("cache_hits", 0)
        self.cache_misses = state.get("cache_misses", 0)
        self.lookups = state.get("lookups", 0)
