"""Lateral joins (Flink's Correlate): each input row with the rows generated for it.

The generated rows come from a user table function (called once per input
row), from UNNEST of an input column, or from VALUES that read input
columns. A lateral subquery's WHERE and SELECT are then evaluated on all
generated rows of the batch at once. Output rows keep the order of their
input rows and carry their input row's watermark, so the step keeps no
state and does not depend on batch boundaries.

A table function that raises, returns something that is not iterable, or
returns a value that does not fit its declared column type rejects its
input row: the row goes to ``rejected_rows()`` and the query goes on.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import QueryRuntimeError
from workbench.events import types as t
from workbench.events.batch import Batch
from workbench.events.schema import Column, Schema
from workbench.events.types import DataType
from workbench.runtime.columns import series_from_values
from workbench.runtime.operator import Operator, output_batch
from workbench.runtime.unnest import UnnestOperator
from workbench.sql.evaluate import EvalContext, evaluate, evaluate_predicate
from workbench.sql.functions.base import scalar_of
from workbench.sql.functions.table import TableFunctionDef, user_table_function
from workbench.sql.plan import LateralJoin, Unnest

#: Hidden column that carries each input row's position through UNNEST.
_ROW_COLUMN = "$lateral_row"

_CONVERSION_ERRORS = (TypeError, ValueError, OverflowError, ArithmeticError)


class LateralJoinOperator(Operator):
    def __init__(self, name: str, node: LateralJoin, time_zone: str = "UTC") -> None:
        super().__init__(name, node.schema)
        self.node = node
        self.time_zone = time_zone
        self.output_types = [node.schema.find(column).type for column, _ in node.outputs]  # type: ignore[union-attr]
        self.unnest: UnnestOperator | None = None
        if node.source.kind == "unnest":
            self.unnest = _unnest_operator(name, node)

    def describe(self) -> str:
        return self.node.label()

    def process(self, batch: Batch, port: int) -> list[Batch]:
        if len(batch) == 0:
            return [output_batch(self.output_schema.empty_frame(), batch.row_watermarks, batch)]
        data = batch.data.reset_index(drop=True)
        context = EvalContext(
            now_ns=time.time_ns(), time_zone=self.time_zone, row_watermarks=batch.row_watermarks
        )
        rows, generated, rejected = self._generate(data, batch, context)
        self.metrics.cast_failures += context.cast_failures

        combined = data.take(rows).reset_index(drop=True)
        for name, column in generated.items():
            combined[name] = column.reset_index(drop=True)
        combined_context = EvalContext(
            now_ns=context.now_ns,
            time_zone=self.time_zone,
            row_watermarks=batch.row_watermarks[rows],
        )
        if self.node.condition is not None and len(combined):
            keep = evaluate_predicate(self.node.condition, combined, combined_context)
            rows = rows[keep]
            combined = combined[keep].reset_index(drop=True)
            combined_context.row_watermarks = batch.row_watermarks[rows]
        outputs = [
            evaluate(expression, combined, combined_context).reset_index(drop=True)
            for _, expression in self.node.outputs
        ]
        self.metrics.cast_failures += combined_context.cast_failures

        # positions[i] is the generated row of output row i, or -1 for a padded row.
        positions = np.arange(len(rows), dtype=np.int64)
        if self.node.outer:
            matched = np.zeros(len(data), dtype=bool)
            matched[rows] = True
            matched[list(rejected)] = True
            padded = np.flatnonzero(~matched)
            if len(padded):
                rows = np.concatenate([rows, padded])
                positions = np.concatenate([positions, np.full(len(padded), -1, dtype=np.int64)])
                order = np.argsort(rows, kind="stable")
                rows, positions = rows[order], positions[order]
        frame = data.take(rows).reset_index(drop=True)
        for (name, _), values, kind in zip(
            self.node.outputs, outputs, self.output_types, strict=True
        ):
            frame[name] = _take(values, positions, kind)
        return [
            Batch(
                frame[self.output_schema.names],
                batch.row_watermarks[rows],
                batch.watermark,
                batch.ingest_ns,
                batch.final,
            )
        ]

    def _generate(
        self, data: pd.DataFrame, batch: Batch, context: EvalContext
    ) -> tuple[np.ndarray, dict[str, pd.Series], set[int]]:
        """Return the input position of each generated row, its columns, and rejected rows."""
        source = self.node.source
        if source.kind == "function":
            return self._call_function(data, context)
        if source.kind == "unnest":
            assert self.unnest is not None
            needed = sorted(source.args[0].columns())
            frame = data[needed].assign(**{_ROW_COLUMN: np.arange(len(data), dtype=np.int64)})
            (exploded,) = self.unnest.process(
                Batch(frame, batch.row_watermarks, batch.watermark, batch.ingest_ns), 0
            )
            self.metrics.cast_failures += self.unnest.metrics.cast_failures
            self.unnest.metrics.cast_failures = 0
            rows = exploded.data[_ROW_COLUMN].to_numpy(dtype=np.int64)
            return rows, {name: exploded.data[name] for name in source.columns}, set()
        return self._values(data, context), self._values_columns(data, context), set()

    def _values(self, data: pd.DataFrame, context: EvalContext) -> np.ndarray:
        del context
        count = len(self.node.source.rows)
        return np.repeat(np.arange(len(data), dtype=np.int64), count)

    def _values_columns(self, data: pd.DataFrame, context: EvalContext) -> dict[str, pd.Series]:
        """Return the VALUES columns, row by row of VALUES within each input row."""
        source = self.node.source
        count = len(source.rows)
        columns: dict[str, pd.Series] = {}
        for index, (name, kind) in enumerate(zip(source.columns, source.types, strict=True)):
            stacked = np.empty(len(data) * count, dtype=object)
            for position, row in enumerate(source.rows):
                values = evaluate(row[index], data, context)
                stacked[position::count] = [scalar_of(value) for value in values.tolist()]
            columns[name] = series_from_values(stacked.tolist(), kind)
        return columns

    def _call_function(
        self, data: pd.DataFrame, context: EvalContext
    ) -> tuple[np.ndarray, dict[str, pd.Series], set[int]]:
        """Call the table function once per input row and collect its rows column by column."""
        source = self.node.source
        definition = user_table_function(source.function)
        if definition is None:
            raise QueryRuntimeError(
                f"table function {source.function} is not registered",
                operator=self.name,
                hint="register it with Session.register_table_function before running the query",
            )
        arguments = [
            [scalar_of(value) for value in evaluate(argument, data, context).tolist()]
            for argument in source.args
        ]
        width = len(source.columns)
        owners: list[int] = []
        values: list[list[Any]] = [[] for _ in range(width)]
        rejected: dict[int, str] = {}
        for position in range(len(data)):
            try:
                produced = definition.func(*(column[position] for column in arguments))
                generated = [_as_tuple(item, definition, width) for item in (produced or ())]
            except Exception as error:
                rejected[position] = f"table function {definition.name} failed: {_describe(error)}"
                continue
            for item in generated:
                owners.append(position)
                for column, value in zip(values, item, strict=True):
                    column.append(value)
        columns, bad = _typed_columns(definition, source.columns, source.types, values, owners)
        if bad:
            keep = np.array([owner not in bad for owner in owners], dtype=bool)
            owners = [owner for owner, kept in zip(owners, keep, strict=True) if kept]
            columns = {
                name: series_from_values(
                    [value for value, kept in zip(column, keep, strict=True) if kept], kind
                )
                for (name, column), kind in zip(
                    zip(source.columns, values, strict=True), source.types, strict=True
                )
            }
            rejected.update(bad)
        for position, reason in sorted(rejected.items()):
            self.rejected.add(reason, repr(data.iloc[position].to_dict()))
        self.metrics.rejected += len(rejected)
        return np.asarray(owners, dtype=np.int64), columns, set(rejected)


def _unnest_operator(name: str, node: LateralJoin) -> UnnestOperator:
    """Return an UNNEST operator that keeps the hidden row position column."""
    source = node.source
    expression = source.args[0]
    input_schema = node.input.schema
    needed = [input_schema.find(column) for column in sorted(expression.columns())]
    columns = [Column(column.name, column.type) for column in needed if column is not None]
    columns.append(Column(_ROW_COLUMN, t.BIGINT))
    columns.extend(Column(c, kind) for c, kind in zip(source.columns, source.types, strict=True))
    element_columns = source.columns[:-1] if source.ordinality else source.columns
    plan = Unnest(
        schema=Schema(tuple(columns)),
        input=node.input,
        expression=expression,
        columns=element_columns,
        ordinality=source.columns[-1] if source.ordinality else None,
    )
    return UnnestOperator(f"{name}-unnest", plan)


def _as_tuple(item: Any, definition: TableFunctionDef, width: int) -> tuple[Any, ...]:
    """Return one generated row as a tuple in column order; raise ValueError if it does not fit."""
    if isinstance(item, Mapping):
        unknown = set(item) - set(definition.columns)
        if unknown:
            raise ValueError(
                f"row {item!r} has no column {sorted(unknown)[0]!r}; "
                f"the columns are {', '.join(definition.columns)}"
            )
        return tuple(item.get(column) for column in definition.columns)
    if isinstance(item, (tuple, list)):
        if len(item) != width:
            raise ValueError(f"row {item!r} has {len(item)} values for {width} columns")
        return tuple(item)
    if width == 1:
        return (item,)
    raise ValueError(f"row {item!r} is not a tuple, list or dict of {width} values")


def _typed_columns(
    definition: TableFunctionDef,
    names: tuple[str, ...],
    types: tuple[DataType, ...],
    values: list[list[Any]],
    owners: list[int],
) -> tuple[dict[str, pd.Series], dict[int, str]]:
    """Return the typed columns, and the input rows whose values do not fit a declared type."""
    columns: dict[str, pd.Series] = {}
    bad: dict[int, str] = {}
    for name, kind, column in zip(names, types, values, strict=True):
        try:
            columns[name] = series_from_values(column, kind)
            continue
        except _CONVERSION_ERRORS:
            pass
        # The column as a whole failed: find the values that do not convert.
        for value, owner in zip(column, owners, strict=True):
            try:
                series_from_values([value], kind)
            except _CONVERSION_ERRORS as error:
                bad.setdefault(
                    owner,
                    f"table function {definition.name} returned {value!r} for column "
                    f"{definition.columns[names.index(name)]!r} of type {kind.sql()}: "
                    f"{_describe(error)}",
                )
    return columns, bad


def _take(values: pd.Series, positions: np.ndarray, kind: DataType) -> pd.Series:
    """Return ``values`` at ``positions``, NULL where a position is -1."""
    if len(positions) and positions.min() < 0:
        taken = pd.Series(values.array.take(positions, allow_fill=True))
        dtype = kind.pandas_dtype()
        return taken if taken.dtype == dtype else taken.astype(dtype)  # type: ignore[arg-type]
    return values.take(positions).reset_index(drop=True)


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"
