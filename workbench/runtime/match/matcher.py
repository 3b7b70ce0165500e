"""The pattern matcher: threads through the program, per partition, row by row.

Each partition runs the standard's matching as a Pike-style machine. A
*thread* is one way of mapping the rows seen so far; threads are kept in
preferment order, with the threads of earlier start rows first. Every row
starts a new attempt (its threads go last). When a thread reaches the end of
the pattern, it records a match and ends every thread of lower preference;
the recorded match is final once no thread of higher preference is left.
The matcher then skips as AFTER MATCH SKIP says and continues from there,
reading again rows it had already seen where the skip goes back.

Conditions that depend only on the row under test and its neighbours
(``price > PREV(price)``) are computed for whole batches in advance and kept
as one bit per variable and row. Conditions that read the match so far
(aggregates, FIRST, other variables) are evaluated per thread, batched over
all partitions one row step at a time.

When every condition depends only on its row, two threads at the same
instruction have the same future, so only the preferred one is kept: the
work per row is then bounded by the pattern's size. With WITHIN the start
row also matters (it sets the time limit), so only threads of the same start
are merged.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from workbench.errors import QueryRuntimeError
from workbench.runtime.match.program import Program, Reach
from workbench.sql.match import SkipTo

#: A thread's row mapping, newest row first: (row, variable, rest) or None.
Labels = tuple[int, int, Any] | None

INFINITE = 1 << 62

#: Label codes carry this bit for rows inside {- -}; the low bits are the variable.
EXCLUDED = 1 << 16
VARIABLE = EXCLUDED - 1


#: One way of mapping the rows seen so far: (start row, the instruction it waits at
#: (a test, or $), its labels, the test instruction of the last row mapped or -1).
#: A plain tuple, because the matcher makes one per thread and row.
Thread = tuple[int, int, Labels, int]
START: Final = 0
PC: Final = 1
LABELS: Final = 2
STATE: Final = 3


@dataclass(slots=True)
class Record:
    """A match found but not yet final: a thread of higher preference is still running."""

    start: int
    end: int
    labels: Labels


@dataclass
class OutputEvent:
    """Something to emit for a partition, in order.

    ``kind`` is ``match``, ``empty`` (an empty match), ``unmatched`` (a row in
    no match, for WITH UNMATCHED ROWS) or ``timeout`` (a partial match that the
    WITHIN limit ended).
    """

    kind: Literal["match", "empty", "unmatched", "timeout"]
    start: int
    end: int
    labels: list[tuple[int, int]]
    number: int = 0
    timeout_ns: int = 0
    #: The row whose processing made this event final (for emission watermarks).
    trigger_ns: int = 0


@dataclass
class PartitionState:
    """Rows and matching state of one partition."""

    key: tuple[Hashable, ...]
    #: Local index of the first row still kept; rows before it were released.
    base: int = 0
    #: Store id, event time (ns) and row-local condition bits of each kept row.
    gids: list[int] = field(default_factory=list)
    times: list[int] = field(default_factory=list)
    masks: list[int] = field(default_factory=list)
    #: Rows whose condition bits are computed (those below it).
    ready: int = 0
    #: Rows where an attempt may start (for skipping rows no attempt can use).
    candidates: list[int] = field(default_factory=list)
    ended: bool = False
    position: int = 0
    threads: list[Thread] = field(default_factory=list)
    record: Record | None = None
    timeouts: list[tuple[int, Thread]] = field(default_factory=list)
    #: The earliest start row whose attempt is not resolved yet.
    frontier: int = 0
    #: The last row of the latest match emitted (for WITH UNMATCHED ROWS).
    covered: int = -1
    matches: int = 0
    events: deque[OutputEvent] = field(default_factory=deque)

    @property
    def available(self) -> int:
        return self.base + len(self.gids)

    def time_of(self, row: int) -> int:
        return self.times[row - self.base]

    def idle(self) -> bool:
        """Return whether the partition holds no partial match and nothing to emit."""
        return (
            not self.threads
            and self.record is None
            and not self.timeouts
            and not self.events
            and self.frontier >= self.available
        )


def label_list(labels: Labels) -> list[tuple[int, int]]:
    """Return a thread's (row, variable) pairs, oldest first."""
    result: list[tuple[int, int]] = []
    node = labels
    while node is not None:
        result.append((node[0], node[1]))
        node = node[2]
    result.reverse()
    return result


def labels_of(pairs: list[tuple[int, int]]) -> Labels:
    node: Labels = None
    for row, variable in pairs:
        node = (row, variable, node)
    return node


#: Evaluates history-dependent conditions: (partition, thread, variable, row) -> holds.
Tester = Callable[[list[tuple[PartitionState, Thread, int, int]]], list[bool]]


class Matcher:
    """Runs one pattern over many partitions."""

    def __init__(
        self,
        program: Program,
        skip: SkipTo,
        *,
        rows_per_match: str,
        history: frozenset[int],
        within_ns: int | None,
        emit_timeouts: bool,
        precision_ns: int,
        lookahead: int,
        max_threads: int,
        tester: Tester | None = None,
        conditions: dict[int, Callable[[Any, Labels, int], bool]] | None = None,
    ) -> None:
        self.program = program
        self.instructions = program.instructions
        self.skip = skip
        self.skip_variables = frozenset(program.variables.index(name) for name in skip.variables)
        self.rows_per_match = rows_per_match
        self.history = history
        self.within_ns = within_ns
        self.emit_timeouts = emit_timeouts
        self.precision_ns = precision_ns
        self.lookahead = lookahead
        self.max_threads = max_threads
        self.tester = tester
        # Conditions compiled to Python functions, for variables that read the match so far.
        self.conditions = conditions or {}
        self.inline = bool(history) and set(history) <= set(self.conditions)
        # Merge threads at the same instruction: across start rows only without WITHIN.
        self.merge_global = not history and within_ns is None
        self.merge_per_start = not history and within_ns is not None
        later = program.closure(0, first_row=False, at_end=False)
        self.start_tests = [reach for reach in later if reach.kind == "test"]
        # Attempts can be skipped on rows where no first variable holds, when that
        # is known in advance: no empty match, no $, no history-dependent first step.
        self.skippable = all(reach.kind == "test" for reach in later) and not any(
            self.instructions[reach.pc].variable in history for reach in later
        )
        self.start_mask = 0
        for reach in self.start_tests:
            self.start_mask |= 1 << self.instructions[reach.pc].variable
        # Per instruction: the variable a test reads (-1 for others), its label code,
        # and what follows a row mapped there (-1 stands for the end of the pattern).
        self._variables = [
            instruction.variable if instruction.operation == "test" else -1
            for instruction in self.instructions
        ]
        self._codes = [
            instruction.variable | EXCLUDED if instruction.excluded else instruction.variable
            for instruction in self.instructions
        ]
        self._after = [
            _targets(program.closure(pc + 1, first_row=False, at_end=False))
            if instruction.operation == "test"
            else ()
            for pc, instruction in enumerate(self.instructions)
        ]
        self._start_first = _targets(program.closure(0, first_row=True, at_end=False))
        self._start_later = _targets(program.closure(0, first_row=False, at_end=False))
        self.show_empty = rows_per_match in ("ONE", "ALL_SHOW_EMPTY", "ALL_WITH_UNMATCHED")
        self.unmatched = rows_per_match == "ALL_WITH_UNMATCHED"

    # Driving ---------------------------------------------------------------------------

    def run(self, partitions: list[PartitionState]) -> None:
        """Step every partition through the rows whose conditions are ready."""
        if not self.history:
            for partition in partitions:
                self._run_local(partition)
                self._resolve(partition)
            return
        if self.inline:
            for partition in partitions:
                while partition.position < partition.ready:
                    row = partition.position
                    threads = self._begin_step(partition, row)
                    self._advance(partition, row, threads, None)
                    if partition.record is not None and not partition.threads:
                        self._resolve(partition)
                self._resolve(partition)
            return
        pending = [p for p in partitions if p.position < p.ready]
        while pending:
            steps: list[tuple[PartitionState, list[Thread], list[tuple[int, int]]]] = []
            requests: list[tuple[PartitionState, Thread, int, int]] = []
            for partition in pending:
                row = partition.position
                threads = self._begin_step(partition, row)
                asked: list[tuple[int, int]] = []
                for index, thread in enumerate(threads):
                    instruction = self.instructions[thread[PC]]
                    if instruction.operation == "test" and instruction.variable in self.history:
                        asked.append((index, len(requests)))
                        requests.append((partition, thread, instruction.variable, row))
                steps.append((partition, threads, asked))
            answers = self.tester(requests) if requests and self.tester is not None else []
            for partition, threads, asked in steps:
                results = {index: answers[slot] for index, slot in asked}
                self._advance(partition, partition.position, threads, results)
                self._resolve(partition)
            pending = [p for p in pending if p.position < p.ready]

    def _run_local(self, partition: PartitionState) -> None:
        """Step through ready rows when every condition is known in advance.

        The same steps as :meth:`_begin_step` and :meth:`_advance`, written out
        in one loop because this loop runs once per row of every partition.
        """
        after = self._after
        codes = self._codes
        variables = self._variables
        within = self.within_ns
        merge_global = self.merge_global
        merge_per_start = self.merge_per_start
        skippable = self.skippable
        start_mask = self.start_mask
        masks = partition.masks
        times = partition.times
        candidates = partition.candidates
        base = partition.base
        ready = partition.ready
        row = partition.position
        threads = partition.threads
        while row < ready:
            if not threads and partition.record is None:
                if skippable and row > 0 and not partition.timeouts:
                    index = bisect.bisect_left(candidates, row)
                    following_row = candidates[index] if index < len(candidates) else ready
                    if following_row > row:
                        row = min(following_row, ready)
                        continue
            elif within is not None and threads:
                now = times[row - base]
                if now - times[threads[0][START] - base] >= within:
                    partition.threads = threads
                    threads = self._expire_by_row(partition, row, threads)
            mask = masks[row - base]
            if partition.record is None and (row == 0 or not skippable or mask & start_mask):
                reaches = self._start_first if row == 0 else self._start_later
                if merge_global and threads:
                    waiting = {thread[PC] for thread in threads}
                    threads = threads + [
                        (row, pc, None, -1) for pc in reaches if pc >= 0 and pc not in waiting
                    ]
                else:
                    threads = threads + [(row, pc, None, -1) for pc in reaches if pc >= 0]
                if -1 in reaches:
                    # An empty match is possible here; attempts that prefer it end.
                    cut = reaches.index(-1)
                    preferred = set(reaches[:cut])
                    threads = [
                        thread
                        for thread in threads
                        if thread[START] != row or thread[PC] in preferred
                    ]
                    self._record(partition, Record(row, row - 1, None))
            following: list[Thread] = []
            # One thread's closure reaches each instruction once, so only several
            # threads can meet at one instruction.
            merge = (merge_global or merge_per_start) and len(threads) > 1
            seen: set[Any] = set()
            for start, pc, previous, _ in threads:
                variable = variables[pc]
                if variable < 0 or not (mask >> variable) & 1:
                    continue  # a failed test, or waiting at $ while rows follow
                labels = (row, codes[pc], previous)
                for target in after[pc]:
                    if target < 0:
                        self._record(partition, Record(start, row, labels))
                        break
                    if merge:
                        key = target if merge_global else (start, target)
                        if key in seen:
                            continue
                        seen.add(key)
                    following.append((start, target, labels, pc))
                else:
                    continue
                break
            if len(following) > self.max_threads:
                self._too_many(partition)
            threads = following
            row += 1
            if partition.record is not None and not threads:
                partition.position = row
                partition.threads = threads
                self._resolve(partition)
                row = partition.position
                threads = partition.threads
        partition.position = row
        partition.threads = threads

    def _begin_step(self, partition: PartitionState, row: int) -> list[Thread]:
        """Return the threads that test ``row``: the running ones, then a new attempt."""
        threads = partition.threads
        if self.within_ns is not None and threads:
            threads = self._expire_by_row(partition, row, threads)
        if partition.record is None:
            reaches = self.program.closure(0, first_row=row == 0, at_end=False)
            seen = {thread[PC] for thread in threads} if self.merge_global else None
            added = False
            for reach in reaches:
                if reach.kind == "match":
                    self._record(partition, Record(row, row - 1, None))
                    break
                if seen is not None:
                    if reach.pc in seen:
                        continue
                    seen.add(reach.pc)
                if not added:
                    threads = list(threads)
                    added = True
                threads.append((row, reach.pc, None, -1))
        return threads

    def _advance(
        self,
        partition: PartitionState,
        row: int,
        threads: list[Thread],
        results: dict[int, bool] | None,
    ) -> None:
        """Map ``row`` in every thread that can take it; keep the threads that continue."""
        mask = partition.masks[row - partition.base]
        following: list[Thread] = []
        seen: set[Hashable] = set()
        closure = self.program.closure
        for index, thread in enumerate(threads):
            instruction = self.instructions[thread[PC]]
            if instruction.operation != "test":
                continue  # waiting at $: a further row means the partition did not end
            variable = instruction.variable
            code = variable | EXCLUDED if instruction.excluded else variable
            labels = (row, code, thread[LABELS])
            if variable in self.history:
                if results is not None:
                    if not results.get(index, False):
                        continue
                elif not self.conditions[variable](partition, labels, row):
                    continue
            elif not (mask >> variable) & 1:
                continue
            matched = False
            for reach in closure(thread[PC] + 1, first_row=False, at_end=False):
                if reach.kind == "match":
                    self._record(partition, Record(thread[START], row, labels))
                    matched = True
                    break
                if self.merge_global:
                    if reach.pc in seen:
                        continue
                    seen.add(reach.pc)
                elif self.merge_per_start:
                    key = (thread[START], reach.pc)
                    if key in seen:
                        continue
                    seen.add(key)
                following.append((thread[START], reach.pc, labels, thread[PC]))
            if matched:
                break
        if len(following) > self.max_threads:
            self._too_many(partition)
        partition.threads = following
        partition.position = row + 1

    def _too_many(self, partition: PartitionState) -> None:
        raise QueryRuntimeError(
            f"pattern matching holds more than {self.max_threads:,} partial matches "
            f"in partition {partition.key!r}",
            hint="limit the match length with WITHIN INTERVAL ..., make conditions "
            "more selective, or raise 'workbench.match.max-partial-matches'",
        )

    def _record(self, partition: PartitionState, record: Record) -> None:
        """Keep a match; attempts of lower preference (later starts) end."""
        partition.record = record
        partition.timeouts = [entry for entry in partition.timeouts if entry[0] < record.start]

    # Time limits -----------------------------------------------------------------------

    def _expire_by_row(
        self, partition: PartitionState, row: int, threads: list[Thread]
    ) -> list[Thread]:
        assert self.within_ns is not None
        now = partition.time_of(row)
        kept: list[Thread] = []
        for thread in threads:
            if now - partition.time_of(thread[START]) >= self.within_ns:
                self._timed_out(partition, thread)
            else:
                kept.append(thread)
        if len(kept) != len(threads):
            partition.threads = kept
        return kept

    def expire(self, partition: PartitionState, watermark: int) -> None:
        """End threads that no row after ``watermark`` could extend within WITHIN."""
        if self.within_ns is None or not partition.threads:
            return
        if partition.position < partition.available:
            return  # released rows still to be read decide first
        earliest = watermark + 1
        kept: list[Thread] = []
        for thread in partition.threads:
            if earliest - partition.time_of(thread[START]) >= self.within_ns:
                self._timed_out(partition, thread)
            else:
                kept.append(thread)
        partition.threads = kept
        self._resolve(partition)

    def _timed_out(self, partition: PartitionState, thread: Thread) -> None:
        if not self.emit_timeouts or thread[LABELS] is None:
            return
        if partition.record is not None and partition.record.start <= thread[START]:
            return
        if any(start == thread[START] for start, _ in partition.timeouts):
            return
        bisect.insort(partition.timeouts, (thread[START], thread), key=lambda entry: entry[0])

    # End of input ----------------------------------------------------------------------

    def finish(self, partition: PartitionState) -> None:
        """Read the last rows of an ended partition and resolve every attempt."""
        partition.ended = True
        while True:
            self.run([partition])
            self._end_threads(partition)
            self._resolve(partition)
            if partition.position >= partition.available and partition.record is None:
                return

    def _end_threads(self, partition: PartitionState) -> None:
        """No row follows: threads waiting at $ may match, every other thread ends."""
        threads = partition.threads
        partition.threads = []
        for thread in threads:
            instruction = self.instructions[thread[PC]]
            if instruction.operation != "end":
                if self.within_ns is not None:
                    self._timed_out(partition, thread)
                continue
            for reach in self.program.closure(thread[PC] + 1, first_row=False, at_end=True):
                if reach.kind == "match":
                    end = thread[LABELS][0] if thread[LABELS] is not None else thread[START] - 1
                    self._record(partition, Record(thread[START], end, thread[LABELS]))
                    return

    # Resolution ------------------------------------------------------------------------

    def _resolve(self, partition: PartitionState) -> None:
        """Emit, in start order, every attempt whose outcome is known."""
        while True:
            # Threads are in preferment order, which puts earlier start rows first.
            alive = partition.threads[0][START] if partition.threads else INFINITE
            recorded = partition.record.start if partition.record is not None else INFINITE
            timed = partition.timeouts[0][0] if partition.timeouts else INFINITE
            if timed < alive and timed < recorded:
                start, thread = partition.timeouts.pop(0)
                self._failed(partition, start)
                self._emit_timeout(partition, start, thread)
                partition.frontier = max(partition.frontier, start + 1)
                continue
            if partition.record is not None and not partition.threads:
                self._finalize(partition)
                continue
            break
        frontier = min(alive, recorded, timed, partition.position)
        if frontier > partition.frontier:
            self._failed(partition, frontier)
            partition.frontier = frontier

    def _failed(self, partition: PartitionState, upto: int) -> None:
        """Attempts from the frontier up to ``upto`` found no match."""
        if self.unmatched:
            first = max(partition.frontier, partition.covered + 1)
            for row in range(first, upto):
                partition.events.append(
                    OutputEvent("unmatched", row, row, [], trigger_ns=partition.time_of(row))
                )
        partition.frontier = max(partition.frontier, upto)

    def _finalize(self, partition: PartitionState) -> None:
        record = partition.record
        assert record is not None
        partition.record = None
        self._failed(partition, record.start)
        labels = label_list(record.labels)
        partition.matches += 1
        number = partition.matches
        trigger = (
            partition.time_of(min(partition.position, partition.available) - 1)
            if (partition.available > partition.base)
            else 0
        )
        if not labels:
            if self.show_empty:
                partition.events.append(
                    OutputEvent("empty", record.start, record.start - 1, [], number, 0, trigger)
                )
            target = record.start + 1
        else:
            partition.events.append(
                OutputEvent("match", record.start, record.end, labels, number, 0, trigger)
            )
            partition.covered = max(partition.covered, record.end)
            target = self._skip_target(record, labels)
        partition.frontier = target
        partition.position = target
        partition.threads = []
        partition.timeouts = [entry for entry in partition.timeouts if entry[0] >= target]

    def _skip_target(self, record: Record, labels: list[tuple[int, int]]) -> int:
        mode = self.skip.mode
        if mode == "PAST_LAST_ROW":
            return record.end + 1
        if mode == "TO_NEXT_ROW":
            return record.start + 1
        rows = [row for row, code in labels if (code & VARIABLE) in self.skip_variables]
        if not rows:
            raise QueryRuntimeError(
                "AFTER MATCH SKIP failed: pattern variable is not present in match",
                hint=f"the match has no row mapped to {self.skip.target}; "
                "skip to a variable every match contains, or SKIP PAST LAST ROW",
            )
        target = rows[0] if mode == "TO_FIRST" else rows[-1]
        if target == record.start:
            raise QueryRuntimeError(
                "AFTER MATCH SKIP failed: cannot skip to first row of match",
                hint="matching would start again at the same row forever; "
                "skip TO NEXT ROW or to a later variable",
            )
        return target

    def _emit_timeout(self, partition: PartitionState, start: int, thread: Thread) -> None:
        assert self.within_ns is not None
        labels = label_list(thread[LABELS])
        partition.matches += 1
        deadline = partition.time_of(start) + self.within_ns - self.precision_ns
        partition.events.append(
            OutputEvent(
                "timeout",
                start,
                labels[-1][0] if labels else start,
                labels,
                partition.matches,
                deadline,
                deadline,
            )
        )

    # Retention -------------------------------------------------------------------------

    def keep_from(self, partition: PartitionState) -> int:
        """Return the first row the partition still needs (before any look-back)."""
        first = min(partition.frontier, partition.position, partition.ready)
        if partition.threads:
            # Threads are in preferment order, which puts earlier start rows first.
            first = min(first, partition.threads[0][START])
        if partition.record is not None:
            first = min(first, partition.record.start)
        if partition.timeouts:
            first = min(first, partition.timeouts[0][0])
        for event in partition.events:
            first = min(first, event.start)
        return first


def _targets(reaches: tuple[Reach, ...]) -> tuple[int, ...]:
    """Return the places a closure reaches as instruction indices; -1 is the end of the pattern."""
    return tuple(-1 if reach.kind == "match" else reach.pc for reach in reaches)
