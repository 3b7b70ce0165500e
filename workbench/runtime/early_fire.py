"""Early firing of window aggregates: where in a batch provisional results are due.

A window aggregate with early firing splits each batch at the points where
an early result is due and processes each part as a batch of its own, then
emits the provisional rows of its open windows. So the provisional rows,
like the final ones, do not depend on how the input was split into batches,
and the final rows are those of a run without early firing.

Windows over a PROCTIME() attribute count the delay in processing time
(:class:`ProcessingTimeDelay`): an early result is due at the end of the
first batch processed at or after each multiple of the delay since the
operator's first row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from workbench.events.batch import Batch
from workbench.events.time import MIN_WATERMARK


@dataclass(frozen=True)
class EarlyFire:
    """When a window aggregate emits provisional results of its open windows.

    ``interval_ns``: each time the watermark passes a multiple of this much
    event time, or for windows over PROCTIME() this much processing time
    (see :class:`ProcessingTimeDelay`). ``rows``: after every that many input rows. Zero turns a
    trigger off. Only groups that received rows since the previous early
    result are emitted.
    """

    interval_ns: int = 0
    rows: int = 0

    @property
    def enabled(self) -> bool:
        return self.interval_ns > 0 or self.rows > 0


def early_fire_points(batch: Batch, early: EarlyFire, sequence: int, watermark: int) -> list[int]:
    """Return the positions p (1 to len) after whose first p rows an early result is due.

    ``sequence`` is the number of rows the operator received before this
    batch, and ``watermark`` its watermark before it. The watermark after
    row ``p - 1`` is ``row_watermarks[p]``, or the batch's watermark for the
    last row.
    """
    count = len(batch)
    positions: set[int] = set()
    if early.rows > 0 and count:
        first = early.rows - sequence % early.rows
        positions.update(range(first, count + 1, early.rows))
    if early.interval_ns > 0:
        after = np.empty(count + 1, dtype=np.int64)
        after[0] = batch.row_watermarks[0] if count else watermark
        after[1:count] = batch.row_watermarks[1:]
        after[count] = batch.watermark
        valid = after > MIN_WATERMARK
        ticks = np.where(valid, after // early.interval_ns, np.iinfo(np.int64).min)
        crossed = valid[1:] & valid[:-1] & (ticks[1:] > ticks[:-1])
        positions.update((np.flatnonzero(crossed) + 1).tolist())
    return sorted(positions)


def process_with_early_fire(
    batch: Batch,
    early: EarlyFire,
    sequence: int,
    watermark: int,
    *,
    advance: Callable[[Batch], Batch],
    provisional: Callable[[Batch], Batch | None],
) -> list[Batch]:
    """Split ``batch`` at its early-fire points, advance each part, then emit its provisional rows.

    ``advance`` counts a part's rows and fires the windows its watermark
    closes. ``provisional`` returns the early result after a part, or None.
    """
    outputs: list[Batch] = []
    start = 0
    for boundary in early_fire_points(batch, early, sequence, watermark):
        part_watermark = (
            int(batch.row_watermarks[boundary]) if boundary < len(batch) else batch.watermark
        )
        part = batch_part(batch, start, boundary, part_watermark)
        outputs.append(advance(part))
        early_rows = provisional(part)
        if early_rows is not None:
            outputs.append(early_rows)
        start = boundary
    if start < len(batch) or not outputs:
        outputs.append(advance(batch_part(batch, start, len(batch), batch.watermark)))
    return outputs


def batch_part(batch: Batch, start: int, stop: int, watermark: int) -> Batch:
    """Return rows [start, stop) of ``batch`` as a batch whose watermark is ``watermark``.

    Only the part that reaches the batch's last row carries its end of input.
    """
    if start == 0 and stop == len(batch):
        return batch
    return Batch(
        batch.data.iloc[start:stop].reset_index(drop=True),
        batch.row_watermarks[start:stop],
        watermark,
        batch.ingest_ns,
        batch.final and stop == len(batch),
        None if batch.row_kinds is None else batch.row_kinds[start:stop],
    )


@dataclass
class ProcessingTimeDelay:
    """The early-fire delay of a window over PROCTIME(), counted on the wall clock.

    Early results are due at ``start_ns + k * interval_ns`` for k = 1, 2, ...,
    where ``start_ns`` is the processing time of the operator's first row.
    Batches arrive at arbitrary times, so a due time is served by the first
    batch processed at or after it. Several due times that fall between two
    batches give one early result.
    """

    interval_ns: int
    start_ns: int | None = None
    #: Number of due times served so far.
    served: int = 0

    def due(self, now_ns: int, has_rows: bool) -> bool:
        """Return whether an early result is due after the batch processed at ``now_ns``."""
        if self.start_ns is None:
            if has_rows:
                self.start_ns = now_ns
            return False
        passed = (now_ns - self.start_ns) // self.interval_ns
        if passed <= self.served:
            return False
        self.served = passed
        return True


def process_with_processing_time_early_fire(
    batch: Batch,
    early: EarlyFire,
    delay: ProcessingTimeDelay | None,
    sequence: int,
    now_ns: int,
    *,
    advance: Callable[[Batch], Batch],
    provisional: Callable[[Batch], Batch | None],
) -> list[Batch]:
    """Process a batch of a window over PROCTIME() with early firing.

    The row trigger splits the batch as for event-time windows. The delay
    trigger, counted in processing time by ``delay``, emits the provisional
    rows after the whole batch, because a batch is processed at one instant.
    """
    by_rows = EarlyFire(rows=early.rows)
    if by_rows.enabled:
        outputs = process_with_early_fire(
            batch, by_rows, sequence, MIN_WATERMARK, advance=advance, provisional=provisional
        )
    else:
        outputs = [advance(batch)]
    if delay is not None and delay.due(now_ns, len(batch) > 0):
        early_rows = provisional(batch)
        if early_rows is not None:
            outputs.append(early_rows)
    return outputs


class EarlyFiring:
    """The early-result step shared by the window and session operators.

    A subclass sets ``early``, ``_delay``, ``sequence`` and ``watermark`` and
    implements ``_advance`` (count a batch, fire what its watermark closes)
    and ``_provisional`` (the early rows after a part, or None).
    """

    early: EarlyFire | None
    _delay: ProcessingTimeDelay | None
    sequence: int
    watermark: int

    def _advance(self, batch: Batch) -> Batch:
        raise NotImplementedError

    def _provisional(self, batch: Batch) -> Batch | None:
        raise NotImplementedError

    def _with_early_results(
        self, batch: Batch, early: EarlyFire, *, processing_time: bool, now_ns: int
    ) -> list[Batch]:
        """Process ``batch`` and emit early results where ``early`` says they are due."""
        if processing_time:
            if early.interval_ns > 0 and self._delay is None:
                self._delay = ProcessingTimeDelay(early.interval_ns)
            return process_with_processing_time_early_fire(
                batch,
                early,
                self._delay,
                self.sequence,
                now_ns,
                advance=self._advance,
                provisional=self._provisional,
            )
        return process_with_early_fire(
            batch,
            early,
            self.sequence,
            self.watermark,
            advance=self._advance,
            provisional=self._provisional,
        )
