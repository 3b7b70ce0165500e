"""MATCH_RECOGNIZE as a streaming operator.

Rows are ordered per partition before they reach the matcher:

- ordered by event time, a row waits until the watermark passes its time and
  is then released with the other rows of that time, sorted by the ORDER BY
  columns; a row whose time the watermark had already passed when it arrived
  is late and goes to the late-rows output (Flink's rule: time <= watermark);
- ordered by processing time (or without ORDER BY), rows go in arrival order;
- ordered by plain columns, rows wait for the end of the (bounded) input.

Matches are emitted as soon as they are final. The output watermark is held
back to just before the earliest row that may still become part of a match,
so that MATCH_ROWTIME() and the rows of ALL ROWS PER MATCH are never late for
the steps after this one.
"""

from __future__ import annotations

import bisect
import copy
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import QueryRuntimeError
from workbench.events.batch import Batch
from workbench.events.schema import Schema
from workbench.events.time import MAX_WATERMARK, MIN_WATERMARK, to_ns
from workbench.runtime.aggregate_state import group_keys
from workbench.runtime.match.automaton import Automaton
from workbench.runtime.match.evaluation import MatchEvaluator, Point
from workbench.runtime.match.matcher import (
    EXCLUDED,
    LABELS,
    PC,
    START,
    STATE,
    VARIABLE,
    Matcher,
    OutputEvent,
    PartitionState,
    Record,
    Thread,
    label_list,
    labels_of,
)
from workbench.runtime.match.program import (
    PatternTooLargeError,
    Program,
    automaton,
    compile_pattern,
)
from workbench.runtime.match.rows import RowStore
from workbench.runtime.match.scalar import ColumnValues, compile_condition
from workbench.runtime.operator import Operator
from workbench.sql.evaluate import evaluate_predicate
from workbench.sql.expr import ColumnRef
from workbench.sql.functions.base import to_dtype
from workbench.sql.match import CLASSIFIER_COLUMN, MATCH_NUMBER_COLUMN, MatchExpression, Navigation
from workbench.sql.plan import MatchRecognize, PlanNode, walk

#: Store chunks kept before old ones are compacted.
KEEP_CHUNKS = 4
#: Partitions kept as objects; beyond this, partitions with no rows and no
#: partial match are reduced to two counters until their next row arrives.
RESTING_AFTER = 10_000


class MatchRecognizeOperator(Operator):
    def __init__(
        self,
        name: str,
        node: MatchRecognize,
        input_schema: Schema,
        time_zone: str = "UTC",
        max_partial_matches: int = 100_000,
    ) -> None:
        super().__init__(name, node.schema)
        self.node = node
        self.spec = node.spec
        self.input_schema = input_schema
        self.variables = node.spec.variables
        try:
            self.program = compile_pattern(node.spec.pattern, self.variables)
        except PatternTooLargeError as error:
            raise QueryRuntimeError(
                str(error), hint="use smaller counts in {n,m}, or fewer nested repetitions"
            ) from None
        # Mark excluded variables in the label codes the matcher records.
        self._mark_exclusions(self.program)
        conditions = dict(node.spec.define)
        self.local: list[tuple[int, MatchExpression]] = []
        history: set[int] = set()
        for index, variable in enumerate(self.variables):
            condition = conditions.get(variable)
            if condition is None:
                continue
            if _row_local(condition, variable):
                self.local.append((index, condition))
            else:
                history.add(index)
        self.conditions = {
            index: conditions[variable]
            for index, variable in enumerate(self.variables)
            if variable in conditions
        }
        self.always = 0
        for index, variable in enumerate(self.variables):
            if variable not in conditions:
                self.always |= 1 << index
        define_navs = [nav for _, c in node.spec.define for nav in c.navigations()]
        measure_navs = [nav for _, m in node.measures for nav in m.navigations()]
        self.lookahead = max([0, *(nav.physical_offset for nav in define_navs)])
        self.measure_lookahead = max([0, *(nav.physical_offset for nav in measure_navs)])
        self.lookback = max([0, *(-nav.physical_offset for nav in define_navs + measure_navs)])
        local_offsets = [
            nav.physical_offset for _, condition in self.local for nav in condition.navigations()
        ]
        self.offsets = (min([0, *local_offsets]), max([0, *local_offsets]))

        columns = self._stored_columns()
        self.store = RowStore(columns, input_schema.empty_frame())
        self.evaluator = MatchEvaluator(
            self.variables,
            self.store,
            time_column=node.time_column if node.ordering == "event_time" else None,
            time_zone=time_zone,
        )
        self.values = ColumnValues(self.store)
        compiled = {
            index: compile_condition(self.conditions[index], self.variables, self.values)
            for index in history
        }
        self.matcher = Matcher(
            self.program,
            node.spec.skip,
            rows_per_match=node.spec.rows_per_match,
            history=frozenset(history),
            within_ns=node.spec.within_ns,
            emit_timeouts=node.spec.emit_timeouts,
            precision_ns=node.spec.precision_ns,
            lookahead=self.lookahead,
            max_threads=max_partial_matches,
            tester=self._test,
            conditions={index: test for index, test in compiled.items() if test is not None},
        )
        self.partitions: dict[tuple[Hashable, ...], PartitionState] = {}
        #: Partitions without rows or matches in progress: key -> (next row, matches).
        self.resting: dict[tuple[Hashable, ...], tuple[int, int]] = {}
        self.pending: list[pd.DataFrame] = []
        self.pending_times: list[np.ndarray] = []
        self.sequence = 0
        self.out_watermark = MIN_WATERMARK
        self.input_watermark = MIN_WATERMARK
        self.ended = False
        #: The rows released by the current batch, sorted, with their partitions.
        self.release: tuple[pd.DataFrame, list[PartitionState], list[int]] | None = None

    def describe(self) -> str:
        return self.node.label()

    def _mark_exclusions(self, program: Program) -> None:
        self.excluded_pcs = {
            pc for pc, instruction in enumerate(program.instructions) if instruction.excluded
        }

    def _stored_columns(self) -> list[str]:
        names: set[str] = set(self.node.partition_keys)
        names.update(key.column for key in self.node.order)
        if self.node.time_column is not None:
            names.add(self.node.time_column)
        for _, expression in [*self.spec.define, *self.node.measures]:
            for _, slot in expression.slots:
                for expr in _slot_exprs(slot):
                    names.update(name for name in expr.columns() if not name.startswith("$"))
        for _, kind, source in self.node.columns:
            if kind == "input":
                names.add(source)
        return [name for name in self.input_schema.names if name in names]

    # Processing ----------------------------------------------------------------------

    def process(self, batch: Batch, port: int) -> list[Batch]:
        del port
        ordering = self.node.ordering
        previous = self.out_watermark
        touched: dict[tuple[Hashable, ...], PartitionState] = {}
        if len(batch):
            frame = batch.data.reset_index(drop=True)
            if ordering == "event_time":
                assert self.node.time_column is not None
                times = to_ns(frame[self.node.time_column])
                late = times <= batch.row_watermarks
                if late.any():
                    self.emit_late(
                        frame[late],
                        batch.row_watermarks[late],
                        "the watermark had passed the row's time when it arrived, "
                        "so the rows around it were already matched",
                    )
                    keep = ~late
                    frame, times = frame[keep].reset_index(drop=True), times[keep]
                if len(frame):
                    self.pending.append(frame)
                    self.pending_times.append(times)
            else:
                self.pending.append(frame)
                self.pending_times.append(
                    to_ns(frame[self.node.time_column])
                    if self.node.time_column is not None
                    else np.zeros(len(frame), dtype=np.int64)
                )
        if batch.final:
            self.ended = True
        watermark = MAX_WATERMARK if batch.final else batch.watermark
        self.input_watermark = max(self.input_watermark, watermark)
        if ordering == "event_time":
            released = self._release(self.input_watermark)
        elif ordering == "arrival" or batch.final:
            released = self._release(None)
        else:
            released = None
        self.release = None
        if released is not None and len(released[0]):
            touched.update(self._load(*released))
        if touched:
            self._compute_masks(list(touched.values()))
            self.matcher.run(list(touched.values()))
        if ordering == "event_time" and self.spec.within_ns is not None:
            for partition in list(self.partitions.values()):
                if partition.threads:
                    self.matcher.expire(partition, self.input_watermark)
                    touched[partition.key] = partition
        if batch.final:
            # Rows that waited for the rows after them (NEXT) can be read now.
            self._compute_masks(list(self.partitions.values()))
            for partition in list(self.partitions.values()):
                self.matcher.finish(partition)
                touched[partition.key] = partition
        events = self._collect(touched.values())
        data = self._output(events)
        self._trim(touched.values())
        self._compact()
        watermark_out = self._hold(batch)
        self.out_watermark = max(self.out_watermark, watermark_out)
        row_watermarks = np.full(len(data), previous, dtype=np.int64)
        return [
            Batch(
                data,
                row_watermarks,
                MAX_WATERMARK if batch.final else self.out_watermark,
                batch.ingest_ns,
                batch.final,
            )
        ]

    def _release(self, watermark: int | None) -> tuple[pd.DataFrame, np.ndarray] | None:
        """Take the rows that may be matched now, sorted per partition."""
        if not self.pending:
            return None
        frame = (
            pd.concat(self.pending, ignore_index=True) if len(self.pending) > 1 else self.pending[0]
        )
        times = np.concatenate(self.pending_times)
        sequence = np.arange(self.sequence, self.sequence + len(frame), dtype=np.int64)
        if watermark is not None and watermark < MAX_WATERMARK:
            ready = times <= watermark
            if not ready.all():
                self.pending = [frame[~ready].reset_index(drop=True)]
                self.pending_times = [times[~ready]]
                frame, times = frame[ready].reset_index(drop=True), times[ready]
                self.sequence += int(ready.sum())
                sequence = sequence[ready]
            else:
                self.pending, self.pending_times = [], []
                self.sequence += len(frame)
        else:
            self.pending, self.pending_times = [], []
            self.sequence += len(frame)
        del sequence
        if not len(frame):
            return None
        return frame, times

    def _load(
        self, frame: pd.DataFrame, times: np.ndarray
    ) -> dict[tuple[Hashable, ...], PartitionState]:
        """Sort released rows, add them to the store and to their partitions."""
        codes, keys = group_keys([frame[name] for name in self.node.partition_keys], len(frame))
        # np.lexsort is stable, so rows that tie on every key keep their arrival order.
        sort_keys: list[np.ndarray] = []
        secondary = self.node.order if self.node.ordering == "buffered" else ()
        if self.node.ordering == "event_time":
            secondary = self.node.order[1:]
        for sort_key in reversed(secondary):
            sort_keys.append(
                _rank(frame[sort_key.column], sort_key.ascending, sort_key.nulls_first)
            )
        if self.node.ordering == "event_time" and (
            secondary or len(times) < 2 or not bool((times[1:] >= times[:-1]).all())
        ):
            sort_keys.append(times)
        if sort_keys:
            sort_keys.append(codes)
            order = np.lexsort(sort_keys)
        else:
            # Rows already in order (or in arrival order): group them by partition only.
            order = np.argsort(codes, kind="stable")
        sorted_frame = frame.take(order).reset_index(drop=True)
        sorted_times = times[order].tolist()
        sorted_codes = codes[order]
        base = self.store.append(sorted_frame)
        touched: dict[tuple[Hashable, ...], PartitionState] = {}
        bounds = np.flatnonzero(np.diff(sorted_codes)) + 1
        starts = [0, *bounds.tolist()]
        ends = [*bounds.tolist(), len(sorted_frame)]
        # Whether every new row starts where its partition's computed conditions end,
        # so that conditions can be computed on the released rows as they are.
        aligned = True
        for start, end in zip(starts, ends, strict=True):
            key = keys[int(sorted_codes[start])]
            partition = self._partition(key)
            aligned = aligned and partition.ready == partition.available
            partition.gids.extend(range(base + start, base + end))
            partition.times.extend(sorted_times[start:end])
            touched[key] = partition
        self.release = (sorted_frame, list(touched.values()), starts) if aligned else None
        return touched

    def _partition(self, key: tuple[Hashable, ...]) -> PartitionState:
        partition = self.partitions.get(key)
        if partition is not None:
            return partition
        resting = self.resting.pop(key, None)
        partition = PartitionState(key)
        if resting is not None:
            first, matches = resting
            partition.base = partition.position = partition.ready = partition.frontier = first
            partition.covered = first - 1
            partition.matches = matches
        self.partitions[key] = partition
        return partition

    # Conditions ----------------------------------------------------------------------

    def _compute_masks(self, partitions: list[PartitionState]) -> None:
        """Compute the row-local condition bits of every row that can be read now.

        The rows of all partitions are evaluated together: each navigation
        column is one gather from the store and each condition one vectorized
        evaluation, whatever the number of partitions.
        """
        segments: list[tuple[PartitionState, int, int]] = []
        for partition in partitions:
            limit = (
                partition.available
                if partition.ended or self.ended
                else partition.available - self.lookahead
            )
            if limit > partition.ready:
                segments.append((partition, partition.ready, limit))
        if not segments:
            return
        counts = np.array([limit - first for _, first, limit in segments], dtype=np.int64)
        total = int(counts.sum())
        bits = np.full(total, self.always, dtype=np.int64)
        direct = self._direct_frame(segments, total)
        if self.local:
            window = _Window(segments, self.offsets) if direct is None else None
            cache: dict[tuple[str, int], pd.Series] = {}
            for variable, condition in self.local:
                if direct is not None:
                    frame = self._direct_slots(condition, direct, self.variables[variable])
                else:
                    assert window is not None
                    frame = self._local_slots(condition, window, cache, self.variables[variable])
                holds = evaluate_predicate(condition.expr, frame)
                bits |= holds.astype(np.int64) << variable
        ends = np.cumsum(counts)
        starts = ends - counts
        bit_list = bits.tolist()
        hits = np.flatnonzero((bits & self.matcher.start_mask) != 0)
        bounds = np.searchsorted(hits, starts).tolist(), np.searchsorted(hits, ends).tolist()
        hit_list = hits.tolist()
        for index, (partition, first, limit) in enumerate(segments):
            offset = int(starts[index])
            partition.masks.extend(bit_list[offset : offset + (limit - first)])
            if self.matcher.skippable:
                shift = first - offset
                found = [hit + shift for hit in hit_list[bounds[0][index] : bounds[1][index]]]
                if first == 0 and (not found or found[0] != 0):
                    found.insert(0, 0)
                partition.candidates.extend(found)
            partition.ready = limit

    def _direct_frame(
        self, segments: list[tuple[PartitionState, int, int]], total: int
    ) -> pd.DataFrame | None:
        """Return the released rows when the conditions can be read from them directly.

        That is when conditions read only the row itself (no PREV or NEXT) and
        the rows to compute are exactly the rows just released, in their order.
        """
        release = self.release
        if release is None or self.offsets != (0, 0) or self.lookahead:
            return None
        frame, partitions, _ = release
        if total != len(frame) or len(partitions) != len(segments):
            return None
        if any(a is not b[0] for a, b in zip(partitions, segments, strict=True)):
            return None
        return frame

    def _direct_slots(
        self, condition: MatchExpression, frame: pd.DataFrame, variable: str
    ) -> pd.DataFrame:
        columns: dict[str, pd.Series] = {}
        for name, slot in condition.slots:
            assert isinstance(slot, Navigation)
            if isinstance(slot.expr, ColumnRef) and slot.expr.name == CLASSIFIER_COLUMN:
                columns[name] = pd.Series([variable] * len(frame), dtype="string[pyarrow]")
            elif isinstance(slot.expr, ColumnRef) and slot.expr.name in frame.columns:
                columns[name] = frame[slot.expr.name]
            else:
                columns[name] = self.evaluator.frame_values(slot.expr, frame, variable)
        return pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))

    def _local_slots(
        self,
        condition: MatchExpression,
        window: _Window,
        cache: dict[tuple[str, int], pd.Series],
        variable: str,
    ) -> pd.DataFrame:
        columns: dict[str, pd.Series] = {}
        for name, slot in condition.slots:
            assert isinstance(slot, Navigation)
            if isinstance(slot.expr, ColumnRef) and slot.expr.name == CLASSIFIER_COLUMN:
                columns[name] = pd.Series([variable] * window.total, dtype="string[pyarrow]")
                continue
            key = (str(slot.expr), slot.physical_offset)
            values = cache.get(key)
            if values is None:
                ids = window.ids(slot.physical_offset)
                valid = ids >= 0
                found = self.evaluator.row_values(slot.expr, ids[valid], variable)
                if valid.all():
                    values = found.reset_index(drop=True)
                else:
                    indexer = np.full(window.total, -1, dtype=np.int64)
                    indexer[valid] = np.arange(int(valid.sum()))
                    array = pd.api.extensions.take(found.array, indexer, allow_fill=True)
                    values = to_dtype(pd.Series(array), slot.type)
                cache[key] = values
            columns[name] = values
        return pd.DataFrame(columns, index=pd.RangeIndex(window.total))

    def _test(self, requests: list[tuple[PartitionState, Thread, int, int]]) -> list[bool]:
        """Evaluate conditions that read the match so far, one per thread."""
        answers = [False] * len(requests)
        by_variable: dict[int, list[int]] = {}
        for index, (_, _, variable, _) in enumerate(requests):
            by_variable.setdefault(variable, []).append(index)
        for variable, indexes in by_variable.items():
            condition = self.conditions[variable]
            points = []
            for index in indexes:
                partition, thread, _, row = requests[index]
                labels = [(r, code & VARIABLE) for r, code in label_list(thread[LABELS])]
                labels.append((row, variable))
                points.append(Point(partition, labels, len(labels), row, partition.matches + 1))
            holds = self.evaluator.predicate(condition, points)
            for index, value in zip(indexes, holds.tolist(), strict=True):
                answers[index] = bool(value)
        return answers

    # Output --------------------------------------------------------------------------

    def _collect(self, partitions: Any) -> list[tuple[PartitionState, OutputEvent]]:
        events: list[tuple[PartitionState, OutputEvent]] = []
        for partition in partitions:
            while partition.events:
                event = partition.events[0]
                if not (
                    partition.ended
                    or self.ended
                    or event.end + self.measure_lookahead < partition.available
                ):
                    break
                events.append((partition, partition.events.popleft()))
        return events

    def _output(self, events: list[tuple[PartitionState, OutputEvent]]) -> pd.DataFrame:
        if not events:
            return self.output_schema.empty_frame()
        all_rows = self.spec.rows_per_match != "ONE"
        points: list[Point] = []
        rows: list[int] = []
        measured: list[bool] = []
        for partition, event in events:
            labels = [(row, code & VARIABLE) for row, code in event.labels]
            timed_out = event.kind == "timeout"
            if event.kind == "unmatched":
                points.append(Point(partition, [], 0, event.start))
                rows.append(partition.gids[event.start - partition.base])
                measured.append(False)
            elif not all_rows or event.kind == "empty":
                points.append(
                    Point(
                        partition,
                        labels,
                        len(labels),
                        event.end if labels else event.start,
                        event.number,
                        timed_out,
                        event.timeout_ns,
                    )
                )
                rows.append(partition.gids[event.start - partition.base])
                measured.append(True)
            else:
                for upto, (row, code) in enumerate(event.labels, start=1):
                    if code & EXCLUDED:
                        continue
                    points.append(
                        Point(
                            partition, labels, upto, row, event.number, timed_out, event.timeout_ns
                        )
                    )
                    rows.append(partition.gids[row - partition.base])
                    measured.append(True)
        measured_array = np.asarray(measured, dtype=bool)
        measured_points = [point for point, flag in zip(points, measured, strict=True) if flag]
        measures: dict[str, pd.Series] = {}
        for name, expression in self.node.measures:
            values = (
                self.evaluator.values(expression, measured_points)
                if measured_points
                else pd.Series([], dtype=expression.type.pandas_dtype())
            )
            if measured_array.all():
                measures[name] = values.reset_index(drop=True)
            else:
                indexer = np.full(len(points), -1, dtype=np.int64)
                indexer[measured_array] = np.arange(int(measured_array.sum()))
                array = pd.api.extensions.take(values.array, indexer, allow_fill=True)
                measures[name] = pd.Series(array)
        inputs = [source for _, kind, source in self.node.columns if kind == "input"]
        gathered = self.store.take(np.asarray(rows, dtype=np.int64), inputs) if inputs else None
        columns: dict[str, pd.Series] = {}
        for (name, kind, source), column in zip(
            self.node.columns, self.output_schema.columns, strict=True
        ):
            if kind == "input":
                assert gathered is not None
                values = gathered[source]
            else:
                values = measures[source]
            columns[name] = to_dtype(values.reset_index(drop=True), column.type)
        return pd.DataFrame(columns, index=pd.RangeIndex(len(points)))

    # State size ----------------------------------------------------------------------

    def _trim(self, partitions: Any) -> None:
        for partition in list(partitions):
            busy = (
                partition.threads
                or partition.record is not None
                or partition.events
                or partition.frontier < partition.available
            )
            if busy and partition.position - partition.base < 64:
                continue
            keep = self.matcher.keep_from(partition) - self.lookback
            drop = keep - partition.base
            if drop <= 0:
                continue
            if drop < 64 and drop < len(partition.gids) and not partition.idle():
                continue
            drop = min(drop, len(partition.gids))
            del partition.gids[:drop]
            del partition.times[:drop]
            del partition.masks[: min(drop, len(partition.masks))]
            partition.base += drop
            if partition.candidates:
                del partition.candidates[: bisect.bisect_left(partition.candidates, partition.base)]
            if len(self.partitions) > RESTING_AFTER and partition.idle() and not partition.gids:
                self.resting[partition.key] = (partition.available, partition.matches)
                del self.partitions[partition.key]

    def _compact(self) -> None:
        if len(self.store.chunks) <= 1:
            return
        lowest = min(
            (min(partition.gids) for partition in self.partitions.values() if partition.gids),
            default=self.store.next_id,
        )
        self.store.drop_below(lowest)
        if len(self.store.chunks) <= KEEP_CHUNKS:
            return
        needed = {key: partition.gids for key, partition in self.partitions.items()}
        mapping = self.store.compact(needed, keep_chunks=KEEP_CHUNKS // 2)
        if not mapping:
            return
        for partition in self.partitions.values():
            partition.gids = [mapping.get(gid, gid) for gid in partition.gids]

    def _hold(self, batch: Batch) -> int:
        """Return the watermark to pass on: before the earliest row a match may still use."""
        if batch.final:
            return MAX_WATERMARK
        if self.node.ordering != "event_time":
            return self.input_watermark if self.node.ordering == "arrival" else MIN_WATERMARK
        hold = self.input_watermark
        for partition in self.partitions.values():
            first = self.matcher.keep_from(partition)
            if first < partition.available:
                hold = min(hold, partition.time_of(max(first, partition.base)) - 1)
        return hold

    # Introspection -------------------------------------------------------------------

    def automaton(self) -> Automaton:
        """Return the pattern's automaton with the states of open partial matches highlighted."""
        drawing = Automaton.of(self.program, str(self.spec.pattern))
        states, _ = automaton(self.program)
        by_pc = {state.pc: state.name for state in states}
        active = {
            by_pc.get(thread[STATE], "start")
            for partition in self.partitions.values()
            for thread in partition.threads
        }
        return drawing.with_active(active)

    def partial_matches(self) -> pd.DataFrame:
        """Return one row per partial match in progress, in preferment order per partition.

        ``waiting_for`` lists the variables the next row may be mapped to, in
        the order they are tried.
        """
        states, _ = automaton(self.program)
        by_pc = {state.pc: state.name for state in states}
        names = {source: name for name, kind, source in self.node.columns if kind == "input"}
        key_names = [names.get(key, key) for key in self.node.partition_keys]
        records: list[dict[str, Any]] = []
        previous: tuple[Any, ...] | None = None
        for partition in self.partitions.values():
            for thread in partition.threads:
                identity = (partition.key, thread[START], id(thread[LABELS]), thread[STATE])
                waiting = self._waiting(thread)
                if identity == previous:
                    if waiting not in records[-1]["waiting_for"].split(" or "):
                        records[-1]["waiting_for"] += f" or {waiting}"
                    continue
                previous = identity
                labels = label_list(thread[LABELS])
                record: dict[str, Any] = dict(zip(key_names, partition.key, strict=True))
                record.update(
                    {
                        "start_row": thread[START] + 1,
                        "start_time": pd.Timestamp(partition.time_of(thread[START]))
                        if self.node.ordering == "event_time"
                        else None,
                        "rows": len(labels),
                        "variables": " ".join(
                            self.variables[code & VARIABLE] for _, code in labels
                        ),
                        "state": by_pc.get(thread[STATE], "start"),
                        "waiting_for": waiting,
                    }
                )
                records.append(record)
        columns = [
            *key_names,
            "start_row",
            "start_time",
            "rows",
            "variables",
            "state",
            "waiting_for",
        ]
        return pd.DataFrame(records, columns=columns)

    def _waiting(self, thread: Thread) -> str:
        instruction = self.program.instructions[thread[PC]]
        if instruction.operation == "end":
            return "end of partition"
        return self.variables[instruction.variable]

    # State ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        state = super().snapshot()
        partitions = {}
        for key, partition in self.partitions.items():
            saved = copy.copy(partition.__dict__)
            saved["threads"] = [
                (t[START], t[PC], label_list(t[LABELS]), t[STATE]) for t in partition.threads
            ]
            saved["record"] = (
                None
                if partition.record is None
                else (
                    partition.record.start,
                    partition.record.end,
                    label_list(partition.record.labels),
                )
            )
            saved["timeouts"] = [
                (start, (t[START], t[PC], label_list(t[LABELS]), t[STATE]))
                for start, t in partition.timeouts
            ]
            saved = copy.deepcopy(saved)
            partitions[key] = saved
        state.update(
            {
                "partitions": partitions,
                "resting": dict(self.resting),
                "pending": [frame.copy() for frame in self.pending],
                "pending_times": [times.copy() for times in self.pending_times],
                "sequence": self.sequence,
                "out_watermark": self.out_watermark,
                "input_watermark": self.input_watermark,
                "ended": self.ended,
                "store": self.store.snapshot(),
            }
        )
        return state

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        self.partitions = {}
        for key, original in state["partitions"].items():
            saved = copy.deepcopy(original)
            partition = PartitionState(key)
            for name, value in saved.items():
                setattr(partition, name, value)
            partition.threads = [
                (start, pc, labels_of(labels), last) for start, pc, labels, last in saved["threads"]
            ]
            record = saved["record"]
            partition.record = (
                None if record is None else Record(record[0], record[1], labels_of(record[2]))
            )
            partition.timeouts = [
                (start, (t[0], t[1], labels_of(t[2]), t[3])) for start, t in saved["timeouts"]
            ]
            self.partitions[key] = partition
        self.resting = dict(state["resting"])
        self.pending = [frame.copy() for frame in state["pending"]]
        self.pending_times = [times.copy() for times in state["pending_times"]]
        self.sequence = state["sequence"]
        self.out_watermark = state["out_watermark"]
        self.input_watermark = state["input_watermark"]
        self.ended = state["ended"]
        self.store.restore(state["store"])


def _slot_exprs(slot: Any) -> list[Any]:
    if isinstance(slot, Navigation):
        return [slot.expr]
    return list(getattr(slot, "args", ()))


def _row_local(condition: MatchExpression, variable: str) -> bool:
    """Return whether a condition depends only on the row under test and its neighbours."""
    for _, slot in condition.slots:
        if not isinstance(slot, Navigation):
            return False
        if slot.logical != "LAST" or slot.logical_offset != 0 or not slot.running:
            return False
        if slot.variables is not None and variable not in slot.variables:
            return False
        columns = slot.expr.columns()
        if MATCH_NUMBER_COLUMN in columns:
            return False
        if CLASSIFIER_COLUMN in columns and (
            slot.physical_offset != 0 or not isinstance(slot.expr, ColumnRef)
        ):
            return False
    return True


def _rank(values: pd.Series, ascending: bool, nulls_first: bool) -> np.ndarray:
    """Return sort ranks of a column for np.lexsort, honouring direction and NULL placement."""
    codes, _ = pd.factorize(values, sort=True, use_na_sentinel=True)
    ranks = codes.astype(np.int64)
    if not ascending:
        ranks = np.where(ranks >= 0, -ranks, ranks)
    null_rank = np.iinfo(np.int64).min if nulls_first else np.iinfo(np.int64).max
    return np.where(codes < 0, null_rank, ranks)


def pattern_automaton(plan: PlanNode) -> Automaton | None:
    """Return the automaton of the first MATCH_RECOGNIZE in a plan, or None."""
    for node in walk(plan):
        if isinstance(node, MatchRecognize):
            program = compile_pattern(node.spec.pattern, node.spec.variables)
            return Automaton.of(program, str(node.spec.pattern))
    return None


class _Window:
    """The store ids around the rows whose condition bits are being computed.

    Rows are numbered across all segments (a segment is one partition's rows
    ``[first, limit)``). ``ids(offset)`` returns, for each of those rows, the
    store id of the row ``offset`` places away in the same partition, or -1
    where that row does not exist (before the partition's first kept row, or
    after its last one).
    """

    def __init__(
        self, segments: list[tuple[PartitionState, int, int]], offsets: tuple[int, int]
    ) -> None:
        before, after = offsets
        flat: list[int] = []
        starts: list[int] = []
        lows: list[int] = []
        highs: list[int] = []
        firsts: list[int] = []
        counts: list[int] = []
        for partition, first, limit in segments:
            low = max(first + before, partition.base, 0)
            high = min(limit + after, partition.available)
            starts.append(len(flat))
            lows.append(low)
            highs.append(high)
            firsts.append(first)
            counts.append(limit - first)
            flat.extend(partition.gids[low - partition.base : high - partition.base])
        self.flat = np.asarray(flat, dtype=np.int64)
        count_array = np.asarray(counts, dtype=np.int64)
        self.total = int(count_array.sum())
        segment = np.repeat(np.arange(len(segments), dtype=np.int64), count_array)
        position = np.arange(self.total, dtype=np.int64) - np.repeat(
            np.cumsum(count_array) - count_array, count_array
        )
        self.rows = np.asarray(firsts, dtype=np.int64)[segment] + position
        self.lows = np.asarray(lows, dtype=np.int64)[segment]
        self.highs = np.asarray(highs, dtype=np.int64)[segment]
        self.starts = np.asarray(starts, dtype=np.int64)[segment]

    def ids(self, offset: int) -> np.ndarray:
        target = self.rows + offset
        valid = (target >= self.lows) & (target < self.highs)
        positions = np.where(valid, self.starts + target - self.lows, 0)
        if len(self.flat) == 0:
            return np.full(self.total, -1, dtype=np.int64)
        return np.where(valid, self.flat[positions], -1)
