"""Evaluating MEASURES and DEFINE expressions at points of matches.

A *point* is one place where an expression is evaluated: a candidate row of
a partial match (DEFINE), or an output row of a match (MEASURES). Each slot
of the expression (a navigation, an aggregate, MATCH_NUMBER() ...) is first
resolved to one value per point; the rows that navigations and aggregates
read are fetched from the row store in one ``take``. The expression is then
evaluated over the slot columns with the vectorized evaluator, so every SQL
function works in MATCH_RECOGNIZE as it does elsewhere.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.events.schema import Schema
from workbench.events.types import DataType
from workbench.runtime.aggregate_state import AggregateState
from workbench.runtime.match.rows import RowStore
from workbench.sql.evaluate import EvalContext, evaluate, evaluate_predicate
from workbench.sql.expr import ColumnRef, Expr
from workbench.sql.functions.base import to_dtype
from workbench.sql.match import (
    CLASSIFIER_COLUMN,
    MATCH_NUMBER_COLUMN,
    MatchAggregate,
    MatchExpression,
    MatchFunction,
    Navigation,
)
from workbench.sql.plan import AggCall

if TYPE_CHECKING:
    from workbench.runtime.match.matcher import PartitionState


@dataclass
class Point:
    """Where an expression is evaluated: a prefix of a match's rows.

    ``labels`` holds (row, variable index) for the rows of the match in order;
    ``upto`` is how many of them RUNNING semantics sees, so the current row is
    ``labels[upto - 1]``. ``row`` is the current row even when no row has been
    mapped (an empty match).
    """

    partition: PartitionState
    labels: list[tuple[int, int]]
    upto: int
    row: int
    number: int = 0
    timed_out: bool = False
    #: The event time of a timed-out match: the instant the WITHIN limit passed.
    timeout_ns: int = 0


class MatchEvaluator:
    """Evaluates compiled MATCH_RECOGNIZE expressions over points."""

    def __init__(
        self,
        variables: tuple[str, ...],
        store: RowStore,
        *,
        time_column: str | None,
        time_zone: str,
    ) -> None:
        self.variables = variables
        self.index = {name: position for position, name in enumerate(variables)}
        self.store = store
        self.time_column = time_column
        self.time_zone = time_zone

    # Public --------------------------------------------------------------------------

    def values(self, expression: MatchExpression, points: list[Point]) -> pd.Series:
        """Return the expression's value at each point."""
        frame = self._slot_frame(expression, points)
        return evaluate(expression.expr, frame, self._context())

    def predicate(self, expression: MatchExpression, points: list[Point]) -> np.ndarray:
        """Return whether the condition holds at each point (NULL counts as false)."""
        frame = self._slot_frame(expression, points)
        return evaluate_predicate(expression.expr, frame, self._context())

    def row_values(
        self, expr: Expr, ids: np.ndarray, classifier: list[str | None] | str | None = None
    ) -> pd.Series:
        """Evaluate an expression over input columns at the rows with these store ids."""
        frame = self._rows_frame(expr, ids, classifier, None)
        return evaluate(expr, frame, self._context())

    def frame_values(self, expr: Expr, frame: pd.DataFrame, classifier: str) -> pd.Series:
        """Evaluate an expression over input columns for every row of ``frame``."""
        columns = expr.columns()
        if CLASSIFIER_COLUMN in columns or MATCH_NUMBER_COLUMN in columns:
            frame = frame.copy(deep=False)
            frame[CLASSIFIER_COLUMN] = pd.Series([classifier] * len(frame), dtype="string[pyarrow]")
            frame[MATCH_NUMBER_COLUMN] = pd.Series([None] * len(frame), dtype="Int64")
        return evaluate(expr, frame, self._context())

    # Slots ---------------------------------------------------------------------------

    def _context(self) -> EvalContext:
        return EvalContext(now_ns=time.time_ns(), time_zone=self.time_zone)

    def _slot_frame(self, expression: MatchExpression, points: list[Point]) -> pd.DataFrame:
        columns: dict[str, pd.Series] = {}
        for name, slot in expression.slots:
            if isinstance(slot, Navigation):
                columns[name] = self._navigation(slot, points)
            elif isinstance(slot, MatchAggregate):
                columns[name] = self._aggregate(slot, points)
            else:
                columns[name] = self._function(slot, points)
        return pd.DataFrame(columns, index=pd.RangeIndex(len(points)))

    def _variable_set(self, names: tuple[str, ...] | None) -> frozenset[int] | None:
        if names is None:
            return None
        return frozenset(self.index[name] for name in names)

    def _navigation(self, slot: Navigation, points: list[Point]) -> pd.Series:
        wanted = self._variable_set(slot.variables)
        count = len(points)
        targets = np.full(count, -1, dtype=np.int64)
        needs_classifier = CLASSIFIER_COLUMN in slot.expr.columns()
        classifiers: list[str | None] = [None] * count
        numbers = [point.number for point in points]
        plain_classifier = (
            isinstance(slot.expr, ColumnRef)
            and slot.expr.name == CLASSIFIER_COLUMN
            and slot.physical_offset == 0
        )
        direct: list[str | None] = [None] * count
        # FIRST counts from the start of the match, so RUNNING does not limit it (as in
        # Trino): FIRST(x, 2) reads the third row of the match on every output row.
        running = slot.running and slot.logical == "LAST"
        for position, point in enumerate(points):
            labels = point.labels
            bound = point.upto if running else len(labels)
            found = _logical(labels, bound, wanted, slot.logical, slot.logical_offset)
            if found < 0:
                continue
            if plain_classifier:
                direct[position] = self.variables[labels[found][1]]
                continue
            row = labels[found][0] + slot.physical_offset
            partition = point.partition
            if row < 0 or row >= partition.available or row < partition.base:
                continue
            targets[position] = partition.gids[row - partition.base]
            if needs_classifier:
                classifiers[position] = _classifier_at(labels, bound, row, self.variables)
        if plain_classifier:
            return pd.Series(direct, dtype=slot.type.pandas_dtype())
        valid = targets >= 0
        if not valid.any():
            return pd.Series([None] * count, dtype=slot.type.pandas_dtype())
        if isinstance(slot.expr, ColumnRef) and not slot.expr.name.startswith("$"):
            # A column read as it is: gather it without evaluating anything.
            values = self.store.take(targets[valid], [slot.expr.name])[slot.expr.name]
            return _spread(values, valid, slot.type)
        kept_classifiers = [c for c, ok in zip(classifiers, valid, strict=True) if ok]
        kept_numbers = [n for n, ok in zip(numbers, valid, strict=True) if ok]
        frame = self._rows_frame(slot.expr, targets[valid], kept_classifiers, kept_numbers)
        values = evaluate(slot.expr, frame, self._context())
        return _spread(values, valid, slot.type)

    def _rows_frame(
        self,
        expr: Expr,
        ids: np.ndarray,
        classifiers: list[str | None] | str | None,
        numbers: list[int] | list[None] | None,
    ) -> pd.DataFrame:
        names = [name for name in sorted(expr.columns()) if not name.startswith("$")]
        frame = self.store.take(ids, names) if names else pd.DataFrame(index=range(len(ids)))
        columns = expr.columns()
        if CLASSIFIER_COLUMN in columns:
            values = classifiers if isinstance(classifiers, list) else [classifiers] * len(ids)
            frame[CLASSIFIER_COLUMN] = pd.Series(values, dtype="string[pyarrow]")
        if MATCH_NUMBER_COLUMN in columns:
            frame[MATCH_NUMBER_COLUMN] = pd.Series(
                numbers if numbers is not None else [None] * len(ids), dtype="Int64"
            )
        return frame

    def _aggregate(self, slot: MatchAggregate, points: list[Point]) -> pd.Series:
        wanted = self._variable_set(slot.variables)
        owners: list[int] = []
        ids: list[int] = []
        classifiers: list[str] = []
        numbers: list[int] = []
        for position, point in enumerate(points):
            labels = point.labels
            bound = point.upto if slot.running else len(labels)
            partition = point.partition
            for row, variable in labels[:bound]:
                if wanted is None or variable in wanted:
                    owners.append(position)
                    ids.append(partition.gids[row - partition.base])
                    classifiers.append(self.variables[variable])
                    numbers.append(point.number)
        arg_names = [f"$arg{index}" for index in range(len(slot.args))]
        args: dict[str, pd.Series] = {}
        id_array = np.asarray(ids, dtype=np.int64)
        for name, expr in zip(arg_names, slot.args, strict=True):
            frame = self._rows_frame(expr, id_array, list(classifiers), numbers)
            args[name] = evaluate(expr, frame, self._context()).reset_index(drop=True)
        schema = Schema.of(
            [(name, expr.type) for name, expr in zip(arg_names, slot.args, strict=True)]
        )
        call = AggCall(
            slot.function,
            tuple(arg_names),
            "$value",
            slot.type,
            distinct=slot.distinct,
            constants=slot.constants,
        )
        state = AggregateState([call], schema, keyed=False)
        count = len(points)
        state.grow(max(count, 1))
        slots = np.arange(count, dtype=np.int64)
        state.clear(slots)
        if owners:
            state.update(np.asarray(owners, dtype=np.int64), args, np.arange(len(owners)))
        result = state.results(slots)["$value"]
        return to_dtype(result, slot.type)

    def _function(self, slot: MatchFunction, points: list[Point]) -> pd.Series:
        dtype = slot.type.pandas_dtype()
        if slot.name == "MATCH_NUMBER":
            return pd.Series([point.number for point in points], dtype=dtype)
        if slot.name == "MATCH_TIMED_OUT":
            return pd.Series([point.timed_out for point in points], dtype=dtype)
        if slot.name == "MATCH_PROCTIME":
            now = pd.Timestamp(time.time_ns(), tz="UTC")
            return pd.Series([now] * len(points), dtype=dtype)
        if slot.name == "MATCH_ROWTIME":
            values = [self._match_time(point) for point in points]
            raw = np.array(
                [np.iinfo(np.int64).min if value is None else value for value in values],
                dtype=np.int64,
            )
            series = pd.Series(raw.view("datetime64[ns]"))
            if str(dtype).startswith("datetime64[ns,"):
                series = series.dt.tz_localize("UTC")
            return to_dtype(series, slot.type)
        return pd.Series([self._timeline(point) for point in points], dtype=object)

    def _match_time(self, point: Point) -> int | None:
        if point.timed_out:
            return point.timeout_ns
        if not point.labels:
            return None
        row = point.labels[-1][0]
        partition = point.partition
        return partition.times[row - partition.base]

    def _timeline(self, point: Point) -> list[dict[str, Any]]:
        partition = point.partition
        entries = []
        for row, variable in point.labels:
            time_ns = partition.times[row - partition.base] if self.time_column else None
            entries.append(
                {
                    "variable": self.variables[variable],
                    "position": row + 1,
                    "rowtime": None if time_ns is None else pd.Timestamp(time_ns),
                }
            )
        return entries


def _logical(
    labels: list[tuple[int, int]],
    bound: int,
    wanted: frozenset[int] | None,
    logical: str,
    offset: int,
) -> int:
    """Return the index in ``labels`` of the row a FIRST/LAST navigation reads, or -1."""
    if wanted is None:
        index = bound - 1 - offset if logical == "LAST" else offset
        return index if 0 <= index < bound else -1
    remaining = offset
    if logical == "LAST":
        for index in range(bound - 1, -1, -1):
            if labels[index][1] in wanted:
                if remaining == 0:
                    return index
                remaining -= 1
        return -1
    for index in range(bound):
        if labels[index][1] in wanted:
            if remaining == 0:
                return index
            remaining -= 1
    return -1


def _classifier_at(
    labels: list[tuple[int, int]], bound: int, row: int, variables: tuple[str, ...]
) -> str | None:
    """Return the variable of ``row`` in the match prefix, or None if the row is outside it."""
    for index in range(bound - 1, -1, -1):
        if labels[index][0] == row:
            return variables[labels[index][1]]
    return None


def _spread(values: pd.Series, valid: np.ndarray, kind: DataType) -> pd.Series:
    """Return ``values`` placed at the valid positions, NULL elsewhere."""
    indexer = np.full(len(valid), -1, dtype=np.int64)
    indexer[valid] = np.arange(int(valid.sum()))
    array = pd.api.extensions.take(values.array, indexer, allow_fill=True)
    return to_dtype(pd.Series(array), kind)
