"""OVER aggregations ordered by event time, with ROWS or RANGE frames.

As in Flink, rows wait until the watermark reaches their event time, then
leave in event-time order (arrival order among equal times), each extended
with the aggregates over its frame. A row whose event time is not above the
watermark when it arrives is late. A RANGE frame includes every row with the
same event time as the current row (its peers).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from workbench.events.batch import Batch
from workbench.events.schema import Schema
from workbench.events.time import MAX_WATERMARK, MIN_WATERMARK, to_ns
from workbench.runtime.columns import from_state_array, series_from_values, to_state_array
from workbench.runtime.operator import Operator
from workbench.runtime.slots import factorize_rows
from workbench.sql.aggregates import canonical_name
from workbench.sql.plan import AggCall, OverAggregate

#: Aggregates computed with pandas rolling windows when their argument is a number.
ROLLING = frozenset(
    {"COUNT", "SUM", "AVG", "MIN", "MAX", "STDDEV_POP", "STDDEV_SAMP", "VAR_POP", "VAR_SAMP"}
)


class OverAggregateOperator(Operator):
    def __init__(self, name: str, node: OverAggregate, input_schema: Schema) -> None:
        super().__init__(name, node.schema)
        self.node = node
        self.input_schema = input_schema
        self.pending: list[pd.DataFrame] = []
        # Rows kept for the frames of later rows: bounded by the frame size.
        self.history = input_schema.empty_frame().assign(
            __time=pd.Series([], dtype=np.int64), __sequence=pd.Series([], dtype=np.int64)
        )
        self.watermark = MIN_WATERMARK
        self.sequence = 0

    def describe(self) -> str:
        return self.node.label()

    def process(self, batch: Batch, port: int) -> list[Batch]:
        if len(batch):
            self._buffer(batch)
        watermark = MAX_WATERMARK if batch.final else batch.watermark
        output = self._release(watermark, batch)
        self.watermark = max(self.watermark, batch.watermark)
        return [output]

    def _buffer(self, batch: Batch) -> None:
        data = batch.data.reset_index(drop=True)
        times = to_ns(data[self.node.time_column])
        late = times <= batch.row_watermarks
        if late.any():
            positions = np.flatnonzero(late)
            self.emit_late(
                data.iloc[positions],
                batch.row_watermarks[positions],
                "event time not above the watermark",
            )
        keep = ~late
        frame = data[keep].copy()
        frame["__time"] = times[keep]
        frame["__sequence"] = self.sequence + np.flatnonzero(keep)
        self.sequence += len(data)
        if len(frame):
            self.pending.append(frame)

    def _release(self, watermark: int, batch: Batch) -> Batch:
        if not self.pending:
            return Batch.empty(
                self.output_schema.empty_frame(), batch.watermark, batch.ingest_ns, batch.final
            )
        pending = pd.concat(self.pending, ignore_index=True)
        due = pending["__time"].to_numpy() <= watermark
        self.pending = [pending[~due].reset_index(drop=True)] if (~due).any() else []
        ready = (
            pending[due].sort_values(["__time", "__sequence"], kind="stable").reset_index(drop=True)
        )
        if len(ready) == 0:
            return Batch.empty(
                self.output_schema.empty_frame(), batch.watermark, batch.ingest_ns, batch.final
            )
        result = self._compute(ready)
        times = ready["__time"].to_numpy()
        # A released row leaves under the watermark before the one that released it.
        row_watermarks = np.maximum(np.minimum(times - 1, watermark), self.watermark).astype(
            np.int64
        )
        data = result[self.output_schema.names]
        return Batch(data, row_watermarks, batch.watermark, batch.ingest_ns, batch.final)

    def _compute(self, ready: pd.DataFrame) -> pd.DataFrame:
        node = self.node
        combined = pd.concat([self.history, ready], ignore_index=True)
        combined["__new"] = np.r_[
            np.zeros(len(self.history), dtype=bool), np.ones(len(ready), dtype=bool)
        ]
        combined = combined.sort_values(["__time", "__sequence"], kind="stable").reset_index(
            drop=True
        )
        if node.partition_keys:
            combined["__partition"], _ = factorize_rows(
                [combined[key] for key in node.partition_keys]
            )
        else:
            combined["__partition"] = 0
        combined = combined.sort_values(
            ["__partition", "__time", "__sequence"], kind="stable"
        ).reset_index(drop=True)
        for call in node.aggregates:
            combined[call.output] = self._aggregate(combined, call)
        self._keep_history(combined)
        new_rows = combined[combined["__new"]].sort_values(["__time", "__sequence"], kind="stable")
        return new_rows.reset_index(drop=True)

    def _aggregate(self, frame: pd.DataFrame, call: AggCall) -> pd.Series:
        function = canonical_name(call.function)
        if function not in ROLLING or call.distinct or not self._numeric(call):
            return self._aggregate_frames(frame, call, function)
        if call.args:
            column = self.input_schema.find(call.args[0])
            assert column is not None
            values, valid = to_state_array(frame[call.args[0]], column.type)
            series = pd.Series(np.where(valid, values.astype(np.float64), np.nan))
        else:
            series = pd.Series(np.ones(len(frame)))
        if call.filter is not None:
            keep = frame[call.filter].fillna(False).to_numpy(dtype=bool)
            series = series.where(keep)
        grouped = series.groupby(frame["__partition"].to_numpy())
        frame_spec = self.node.frame
        if frame_spec.preceding is None:
            rolling: Any = grouped.expanding(min_periods=1)
        elif frame_spec.kind == "ROWS":
            rolling = grouped.rolling(window=frame_spec.preceding + 1, min_periods=1)
        else:
            times = pd.to_datetime(frame["__time"].to_numpy(), unit="ns")
            indexed = pd.Series(series.to_numpy(), index=times)
            rolling = indexed.groupby(frame["__partition"].to_numpy()).rolling(
                window=pd.Timedelta(frame_spec.preceding, unit="ns"), closed="both", min_periods=1
            )
        if function == "COUNT":
            values = rolling.count()
        elif function == "SUM":
            values = rolling.sum()
        elif function == "AVG":
            values = rolling.mean()
        elif function == "MIN":
            values = rolling.min()
        elif function == "MAX":
            values = rolling.max()
        elif function.startswith("STDDEV"):
            values = rolling.std(ddof=1 if function.endswith("_SAMP") else 0)
        else:
            values = rolling.var(ddof=1 if function.endswith("_SAMP") else 0)
        result = values.to_numpy(dtype=np.float64)
        if frame_spec.kind == "RANGE":
            # Peers (same partition and time) share the value of the last of them.
            peers = pd.Series(result).groupby(
                [frame["__partition"].to_numpy(), frame["__time"].to_numpy()]
            )
            result = peers.transform("last").to_numpy(dtype=np.float64)
        if function == "COUNT":
            return pd.Series(np.nan_to_num(result).astype(np.int64)).astype("Int64")
        valid_result = ~np.isnan(result)
        if call.type.is_integer:
            return from_state_array(
                np.where(valid_result, result, 0).astype(np.int64), valid_result, call.type
            )
        return from_state_array(np.where(valid_result, result, 0.0), valid_result, call.type)

    def _numeric(self, call: AggCall) -> bool:
        if not call.args:
            return True
        column = self.input_schema.find(call.args[0])
        assert column is not None
        return column.type.is_numeric or column.type.kind.value == "NULL"

    def _bounds(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Return, per row, the first and last position of its frame (inclusive)."""
        count = len(frame)
        positions = np.arange(count, dtype=np.int64)
        partitions = frame["__partition"].to_numpy()
        times = frame["__time"].to_numpy()
        new_partition = np.ones(count, dtype=bool)
        new_partition[1:] = partitions[1:] != partitions[:-1]
        partition_start = np.maximum.accumulate(np.where(new_partition, positions, 0))
        spec = self.node.frame
        if spec.kind == "ROWS":
            if spec.preceding is None:
                return partition_start, positions
            return np.maximum(partition_start, positions - spec.preceding), positions
        starts = partition_start.copy()
        ends = positions.copy()
        boundaries = [*np.flatnonzero(new_partition).tolist(), count]
        for first, stop in itertools.pairwise(boundaries):
            part_times = times[first:stop]
            # Rows with the same time are peers: the frame ends at the last of them.
            ends[first:stop] = first + np.searchsorted(part_times, part_times, side="right") - 1
            if spec.preceding is not None:
                lower = part_times - spec.preceding
                starts[first:stop] = first + np.searchsorted(part_times, lower, side="left")
        return starts, ends

    def _aggregate_frames(self, frame: pd.DataFrame, call: AggCall, function: str) -> pd.Series:
        """Compute an aggregate row by row over each new row's frame (any type, DISTINCT)."""
        starts, ends = self._bounds(frame)
        if call.args:
            values = frame[call.args[0]].to_numpy(dtype=object)
            valid = frame[call.args[0]].notna().to_numpy(dtype=bool)
        else:
            values = np.ones(len(frame), dtype=object)
            valid = np.ones(len(frame), dtype=bool)
        if call.filter is not None:
            valid &= frame[call.filter].fillna(False).to_numpy(dtype=bool)
        new_rows = np.flatnonzero(frame["__new"].to_numpy(dtype=bool))
        results: list[Any] = [None] * len(frame)
        for row in new_rows.tolist():
            window = values[starts[row] : ends[row] + 1][
                valid[starts[row] : ends[row] + 1]
            ].tolist()
            results[row] = _reduce(function, window, call)
        return series_from_values(results, call.type)

    def _keep_history(self, combined: pd.DataFrame) -> None:
        frame_spec = self.node.frame
        history = combined.drop(columns=["__new", *[call.output for call in self.node.aggregates]])
        if frame_spec.preceding is None:
            # NOTE: an UNBOUNDED PRECEDING frame keeps every row of each partition;
            # memory grows with the input.
            self.history = history.drop(columns="__partition").reset_index(drop=True)
            return
        if frame_spec.kind == "ROWS":
            kept = history.groupby("__partition", sort=False).tail(frame_spec.preceding)
        else:
            latest = history.groupby("__partition")["__time"].transform("max")
            kept = history[history["__time"] >= latest - frame_spec.preceding]
        self.history = kept.drop(columns="__partition").reset_index(drop=True)

    def snapshot(self) -> dict[str, Any]:
        return {
            "pending": [frame.copy() for frame in self.pending],
            "history": self.history.copy(),
            "watermark": self.watermark,
            "sequence": self.sequence,
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.pending = list(state["pending"])
        self.history = state["history"]
        self.watermark = state["watermark"]
        self.sequence = state["sequence"]


def _reduce(function: str, values: list[Any], call: AggCall) -> Any:
    """Return one aggregate over the non-null values of a frame, in frame order."""
    if call.distinct:
        values = list(dict.fromkeys(values))
    if function == "COUNT":
        return len(values)
    if not values:
        return None
    if function == "SUM":
        return sum(values)
    if function == "AVG":
        return float(np.mean(np.asarray(values, dtype=np.float64)))
    if function == "MIN":
        return min(values)
    if function == "MAX":
        return max(values)
    if function == "FIRST_VALUE":
        return values[0]
    if function == "LAST_VALUE":
        return values[-1]
    if function == "LISTAGG":
        separator = str(call.constants[0]) if call.constants else ","
        return separator.join(str(value) for value in values)
    sample = function.endswith("_SAMP")
    if sample and len(values) < 2:
        return None
    variance = float(np.var(np.asarray(values, dtype=np.float64), ddof=1 if sample else 0))
    return variance**0.5 if function.startswith("STDDEV") else variance
