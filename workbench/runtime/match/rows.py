"""The rows the matcher has released, shared by all partitions.

Released rows are appended as chunks (one per release, sorted by partition
and order). A row is addressed by a global id; each partition keeps the ids
of its rows in order. Gathering rows for evaluation or output is one ``take``
per chunk involved. Chunks that no partition needs any more are dropped, and
the few rows that quiet partitions still hold in old chunks are copied into a
new chunk first, so memory follows the rows still in use, not the input size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class Chunk:
    base: int
    frame: pd.DataFrame

    @property
    def end(self) -> int:
        return self.base + len(self.frame)


class RowStore:
    """Chunks of released rows addressed by global row id."""

    def __init__(self, columns: list[str], empty: pd.DataFrame) -> None:
        self.columns = columns
        self.empty = empty[columns]
        self.chunks: list[Chunk] = []
        self.next_id = 0

    def __len__(self) -> int:
        return sum(len(chunk.frame) for chunk in self.chunks)

    def append(self, frame: pd.DataFrame) -> int:
        """Add rows; return the id of the first one (the others follow in order)."""
        base = self.next_id
        if len(frame):
            self.chunks.append(Chunk(base, frame[self.columns].reset_index(drop=True)))
            self.next_id += len(frame)
        return base

    def take(self, ids: np.ndarray, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """Return the rows with these ids, in the order given."""
        names = list(self.columns if columns is None else columns)
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return self.empty[names].iloc[0:0].reset_index(drop=True)
        bases = np.array([chunk.base for chunk in self.chunks], dtype=np.int64)
        which = np.searchsorted(bases, ids, side="right") - 1
        if (which < 0).any():
            raise KeyError("row id below the oldest kept row")
        first = int(which[0])
        gathered: dict[str, Any] = {}
        if (which == first).all():
            chunk = self.chunks[first]
            positions = ids - chunk.base
            for name in names:
                gathered[name] = chunk.frame[name].array.take(positions)
            return pd.DataFrame(gathered, index=pd.RangeIndex(len(ids)), copy=False)
        # Several chunks: gather each column from each chunk, then restore the order.
        groups = [
            (self.chunks[int(index)], np.flatnonzero(which == index)) for index in np.unique(which)
        ]
        order = np.empty(len(ids), dtype=np.int64)
        order[np.concatenate([selected for _, selected in groups])] = np.arange(len(ids))
        for name in names:
            pieces = [
                chunk.frame[name].array.take(ids[selected] - chunk.base)
                for chunk, selected in groups
            ]
            combined = type(pieces[0])._concat_same_type(pieces)
            gathered[name] = combined.take(order)
        return pd.DataFrame(gathered, index=pd.RangeIndex(len(ids)), copy=False)

    def compact(self, needed: dict[Any, list[int]], keep_chunks: int = 2) -> dict[int, int]:
        """Drop old chunks; copy the rows in ``needed`` that live there into a new chunk.

        ``needed`` maps an owner to the ids it still uses. Returns old id ->
        new id for every copied row. The newest ``keep_chunks`` chunks stay.
        """
        if len(self.chunks) <= keep_chunks:
            return {}
        limit = self.chunks[-keep_chunks].base
        moved = sorted({row for rows in needed.values() for row in rows if row < limit})
        mapping: dict[int, int] = {}
        if moved:
            carried = self.take(np.asarray(moved, dtype=np.int64))
            base = self.next_id
            mapping = {old: base + index for index, old in enumerate(moved)}
            self.chunks = [chunk for chunk in self.chunks if chunk.base >= limit]
            self.chunks.append(Chunk(base, carried))
            self.next_id += len(carried)
        else:
            self.chunks = [chunk for chunk in self.chunks if chunk.base >= limit]
        return mapping

    def drop_below(self, lowest: int) -> None:
        """Drop every chunk, except the newest, whose rows all have ids below ``lowest``."""
        if len(self.chunks) > 1:
            newest = self.chunks[-1]
            self.chunks = [chunk for chunk in self.chunks[:-1] if chunk.end > lowest] + [newest]

    def snapshot(self) -> dict[str, Any]:
        return {
            "chunks": [(chunk.base, chunk.frame.copy()) for chunk in self.chunks],
            "next_id": self.next_id,
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.chunks = [Chunk(base, frame.copy()) for base, frame in state["chunks"]]
        self.next_id = state["next_id"]
