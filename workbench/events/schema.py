"""Schemas: ordered, named, typed columns with an optional event-time column."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from workbench.events.types import DataType, TimeAttribute


@dataclass(frozen=True)
class Column:
    name: str
    type: DataType
    comment: str | None = None


@dataclass(frozen=True)
class Schema:
    """The columns of a table or of an operator's output, in order."""

    columns: tuple[Column, ...]

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, DataType]]) -> Schema:
        return cls(tuple(Column(name, kind) for name, kind in pairs))

    def __iter__(self) -> Iterator[Column]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def types(self) -> list[DataType]:
        return [column.type for column in self.columns]

    def find(self, name: str) -> Column | None:
        """Return the column named ``name``; an unquoted name matches case-insensitively."""
        for column in self.columns:
            if column.name == name:
                return column
        matches = [column for column in self.columns if column.name.lower() == name.lower()]
        return matches[0] if len(matches) == 1 else None

    def index(self, name: str) -> int:
        column = self.find(name)
        if column is None:
            raise KeyError(name)
        return self.columns.index(column)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None

    @property
    def rowtime(self) -> Column | None:
        """Return the event-time attribute column, if the schema has one."""
        for column in self.columns:
            if column.type.time_attribute is TimeAttribute.ROWTIME:
                return column
        return None

    @property
    def proctime(self) -> Column | None:
        for column in self.columns:
            if column.type.time_attribute is TimeAttribute.PROCTIME:
                return column
        return None

    def select(self, names: Iterable[str]) -> Schema:
        by_name = {column.name: column for column in self.columns}
        return Schema(tuple(by_name[name] for name in names))

    def rename(self, names: Iterable[str]) -> Schema:
        return Schema(
            tuple(
                Column(name, column.type, column.comment)
                for name, column in zip(names, self.columns, strict=True)
            )
        )

    def without_time_attributes(self) -> Schema:
        return Schema(tuple(Column(c.name, c.type.plain(), c.comment) for c in self.columns))

    def empty_frame(self) -> pd.DataFrame:
        """Return a DataFrame with no rows and one correctly typed column per schema column."""
        return _empty_frame(self).copy(deep=False)

    def describe(self) -> pd.DataFrame:
        """Return DESCRIBE's table: name, type, nullability, time attribute and comment of each column."""
        return pd.DataFrame(
            {
                "name": [c.name for c in self.columns],
                "type": [c.type.plain().with_nullable(True).sql() for c in self.columns],
                "null": [c.type.nullable for c in self.columns],
                "time_attribute": pd.Series(
                    [
                        c.type.time_attribute.value if c.type.time_attribute else None
                        for c in self.columns
                    ],
                    dtype=object,
                ),
                "comment": pd.Series([c.comment for c in self.columns], dtype=object),
            }
        )


@lru_cache(maxsize=512)
def _empty_frame(schema: Schema) -> pd.DataFrame:
    return pd.DataFrame(
        {column.name: pd.Series([], dtype=column.type.pandas_dtype()) for column in schema.columns}
    )
