"""Incremental aggregate state, one array entry per group slot.

Each accumulator keeps the partial state of one aggregate call for every
slot of a :class:`~workbench.runtime.slots.SlotTable`. ``update`` folds a
batch of rows in (one compiled pass from :mod:`workbench.runtime.kernels`
for COUNT, SUM, AVG, MIN and MAX over numbers, numpy for the rest), ``merge`` folds one slot into another (session windows merge),
and ``result`` returns the final values as a typed Series.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import pandas as pd
from datasketches import kll_doubles_sketch

from workbench.events.types import DataType
from workbench.runtime import kernels
from workbench.runtime.columns import (
    NUMERIC_STATE_KINDS,
    from_state_array,
    group_positions,
    series_from_values,
    state_dtype,
    to_state_array,
)
from workbench.sql.aggregates import MOMENT_FUNCTIONS, UserAggregateDef, canonical_name
from workbench.sql.plan import AggCall


class Accumulator(ABC):
    """Partial state of one aggregate call for every slot."""

    def __init__(self, call: AggCall, arg_types: list[DataType]) -> None:
        self.call = call
        self.arg_types = arg_types
        self.capacity = 0

    @abstractmethod
    def grow(self, capacity: int) -> None:
        """Extend the state arrays to ``capacity`` slots."""

    @abstractmethod
    def clear(self, slots: np.ndarray) -> None:
        """Reset the given slots to the empty state."""

    @abstractmethod
    def update(self, slots: np.ndarray, args: list[pd.Series], sequence: np.ndarray) -> None:
        """Fold rows in: ``slots[i]`` is row i's slot, ``sequence[i]`` its arrival number."""

    @abstractmethod
    def merge(self, target: np.ndarray, source: np.ndarray) -> None:
        """Fold each source slot into the target slot at the same position."""

    @abstractmethod
    def result(self, slots: np.ndarray) -> pd.Series:
        """Return the aggregate value of each slot, typed as the call's result type."""

    def shares_state_with(self, other: Accumulator) -> bool:
        """Return whether this accumulator can read its result from ``other``'s state.

        Such an accumulator is then never updated: see :meth:`read_from`.
        """
        return False

    def read_from(self, other: Accumulator) -> None:
        """Take results from ``other``, whose state contains everything this one would keep."""
        raise TypeError(f"{type(self).__name__} keeps its own state")

    def snapshot(self) -> dict[str, Any]:
        """Return the state arrays (deep copies, so later updates do not change them)."""
        arrays = {
            name: copy.deepcopy(value) if value.dtype == object else value.copy()
            for name, value in vars(self).items()
            if isinstance(value, np.ndarray)
        }
        return {"capacity": self.capacity, "arrays": arrays}

    def restore(self, state: dict[str, Any]) -> None:
        for name, value in state["arrays"].items():
            setattr(self, name, copy.deepcopy(value) if value.dtype == object else value.copy())
        self.capacity = state["capacity"]


def add_counts(counts: np.ndarray, slots: np.ndarray) -> None:
    """Add one to ``counts[slot]`` for each slot."""
    kernels.add_counts(counts, _as_int64(slots))


def _as_int64(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=np.int64)


def _extend(array: np.ndarray, capacity: int, fill: Any) -> np.ndarray:
    extra = np.full(capacity - len(array), fill, dtype=array.dtype)
    return np.concatenate([array, extra])


class CountAccumulator(Accumulator):
    """COUNT(*) and COUNT(x)."""

    def __init__(self, call: AggCall, arg_types: list[DataType]) -> None:
        super().__init__(call, arg_types)
        self.counts = np.zeros(0, dtype=np.int64)

    def grow(self, capacity: int) -> None:
        self.counts = _extend(self.counts, capacity, 0)
        self.capacity = capacity

    def clear(self, slots: np.ndarray) -> None:
        self.counts[slots] = 0

    def update(self, slots: np.ndarray, args: list[pd.Series], sequence: np.ndarray) -> None:
        if args:
            valid = args[0].notna().to_numpy(dtype=bool)
            kernels.add_valid_counts(self.counts, _as_int64(slots), valid)
        else:
            add_counts(self.counts, slots)

    def merge(self, target: np.ndarray, source: np.ndarray) -> None:
        np.add.at(self.counts, target, self.counts[source])

    def result(self, slots: np.ndarray) -> pd.Series:
        return pd.Series(
            pd.arrays.IntegerArray(self.counts[slots], np.zeros(len(slots), dtype=bool))
        )


class SumAccumulator(Accumulator):
    """SUM and AVG over numbers: a running sum and a count of non-null values."""

    def __init__(self, call: AggCall, arg_types: list[DataType], average: bool = False) -> None:
        super().__init__(call, arg_types)
        self.average = average
        integer = arg_types[0].is_integer and not average
        self.sums = np.zeros(0, dtype=np.int64 if integer else np.float64)
        self.counts = np.zeros(0, dtype=np.int64)
        # Another SUM or AVG of the same column whose sums and counts this one reads.
        self.state_source: SumAccumulator | None = None

    def grow(self, capacity: int) -> None:
        self.sums = _extend(self.sums, capacity, 0)
        self.counts = _extend(self.counts, capacity, 0)
        self.capacity = capacity

    def clear(self, slots: np.ndarray) -> None:
        self.sums[slots] = 0
        self.counts[slots] = 0

    def update(self, slots: np.ndarray, args: list[pd.Series], sequence: np.ndarray) -> None:
        values, valid = to_state_array(args[0], self.arg_types[0])
        values = np.ascontiguousarray(values, dtype=self.sums.dtype)
        kernels.add_sums(self.sums, self.counts, _as_int64(slots), values, valid)

    def merge(self, target: np.ndarray, source: np.ndarray) -> None:
        np.add.at(self.sums, target, self.sums[source])
        np.add.at(self.counts, target, self.counts[source])

    def shares_state_with(self, other: Accumulator) -> bool:
        # SUM(x) and AVG(x) over DOUBLE keep the same sums and counts.
        return (
            isinstance(other, SumAccumulator)
            and other.sums.dtype == self.sums.dtype
            and other.call.args == self.call.args
            and other.call.filter == self.call.filter
        )

    def read_from(self, other: Accumulator) -> None:
        assert isinstance(other, SumAccumulator)
        self.state_source = other

    def result(self, slots: np.ndarray) -> pd.Series:
        source = self.state_source or self
        counts = source.counts[slots]
        valid = counts > 0
        sums = source.sums[slots]
        values = sums / np.maximum(counts, 1) if self.average else sums
        return from_state_array(values, valid, self.call.type)


class ExtremeAccumulator(Accumulator):
    """MIN and MAX over numbers, timestamps and booleans (numeric state)."""

    def __init__(self, call: AggCall, arg_types: list[DataType], maximum: bool) -> None:
        super().__init__(call, arg_types)
        self.maximum = maximum
        self.ufunc = np.maximum if maximum else np.minimum
        dtype = state_dtype(arg_types[0])
        if dtype is np.int64:
            self.identity: Any = np.iinfo(np.int64).min if maximum else np.iinfo(np.int64).max
        else:
            self.identity = -np.inf if maximum else np.inf
        self.values = np.zeros(0, dtype=dtype)
        self.present = np.zeros(0, dtype=bool)

    def grow(self, capacity: int) -> None:
        self.values = _extend(self.values, capacity, self.identity)
        self.present = _extend(self.present, capacity, False)
        self.capacity = capacity

    def clear(self, slots: np.ndarray) -> None:
        self.values[slots] = self.identity
        self.present[slots] = False

    def update(self, slots: np.ndarray, args: list[pd.Series], sequence: np.ndarray) -> None:
        values, valid = to_state_array(args[0], self.arg_types[0])
        values = np.ascontiguousarray(values, dtype=self.values.dtype)
        # NaN is not NULL for DOUBLE, but it must not poison MIN/MAX either: the fold skips it.
        kernels.fold_extremes(
            self.values, self.present, _as_int64(slots), values, valid, self.maximum
        )

    def merge(self, target: np.ndarray, source: np.ndarray) -> None:
        self.ufunc.at(self.values, target, self.values[source])
        self.present[target] |= self.present[source]

    def result(self, slots: np.ndarray) -> pd.Series:
        return from_state_array(self.values[slots], self.present[slots], self.call.type)


class ObjectAccumulator(Accumulator):
    """Base for state held as one Python object per slot."""

    def __init__(self, call: AggCall, arg_types: list[DataType]) -> None:
        super().__init__(call, arg_types)
        self.state = np.empty(0, dtype=object)

    def grow(self, capacity: int) -> None:
        self.state = np.concatenate(
            [self.state, np.array([None] * (capacity - len(self.state)), dtype=object)]
        )
        self.capacity = capacity

    def clear(self, slots: np.ndarray) -> None:
        for slot in slots:
            self.state[slot] = None


class ObjectExtremeAccumulator(ObjectAccumulator):
    """MIN and MAX over strings and other comparable values."""

    def __init__(self, call: AggCall, arg_types: list[DataType], maximum: bool) -> None:
        super().__init__(call, arg_types)
        self.maximum = maximum

    def _better(self, current: Any, candidate: Any) -> Any:
        if current is None:
            return candidate
        return max(current, candidate) if self.maximum else min(current, candidate)

    def update(self, slots: np.ndarray, args: list[pd.Series], sequence: np.ndarray) -> None:
        series = args[0]
        valid = series.notna().to_numpy(dtype=bool)
        if not valid.any():
            return
        grouped = series[valid].groupby(slots[valid], sort=False)
        partial = grouped.max() if self.maximum else grouped.min()
        for slot, value in zip(partial.index.tolist(), partial.tolist(), strict=True):
            self.state[slot] = self._better(self.state[slot], value)

    def merge(self, target: np.ndarray, source: np.ndarray) -> None:
        for into, origin in zip(target, source, strict=True):
            if self.state[origin] is not None:
                self.state[into] = self._better(self.state[into], self.state[origin])

    def result(self, slots: np.ndarray) -> pd.Series:
        return series_from_values([self.state[slot] for slot in slots], self.call.type)


class MomentAccumulator(Accumulator):
    """STDDEV and VARIANCE (population and sample) with Chan's parallel update."""

    def __init__(self, call: AggCall, arg_types: list[DataType]) -> None:
        super().__init__(call, arg_types)
        self.function = canonical_name(call.function)
        self.n = np.zeros(0, dtype=np.float64)
        self.mean = np.zeros(0, dtype=np.float64)
        self.m2 = np.zeros(0, dtype=np.float64)

    def grow(self, capacity: int) -> None:
        self.n = _extend(self.n, capacity, 0.0)
        self.mean = _extend(self.mean, capacity, 0.0)
        self.m2 = _extend(self.m2, capacity, 0.0)
        self.capacity = capacity

    def clear(self, slots: np.ndarray) -> None:
        self.n[slots] = 0.0
        self.mean[slots] = 0.0
        self.m2[slots] = 0.0

    def update(self, slots: np.ndarray, args: list[pd.Series], sequence: np.ndarray) -> None:
        values, valid = to_state_array(args[0], self.arg_types[0])
        values = values.astype(np.float64, copy=False)
        if not valid.all():
            slots, values = slots[valid], values[valid]
        if len(slots) == 0:
            return
        codes, uniques = pd.factorize(slots)
        count = np.bincount(codes).astype(np.float64)
        mean = np.bincount(codes, weights=values) / count
        m2 = np.bincount(codes, weights=(values - mean[codes]) ** 2)
        self._combine(uniques.astype(np.int64), count, mean, m2)

    def _combine(
        self, slots: np.ndarray, count: np.ndarray, mean: np.ndarray, m2: np.ndarray
    ) -> None:
        n_a = self.n[slots]
        total = n_a + count
        delta = mean - self.mean[slots]
        self.mean[slots] += delta * count / total
        self.m2[slots] += m2 + delta**2 * n_a * count / total
        self.n[slots] = total

    def merge(self, target: np.ndarray, source: np.ndarray) -> None:
        for into, origin in zip(target, source, strict=True):
            if self.n[origin] > 0:
                self._combine(
                    np.array([into]), self.n[[origin]], self.mean[[origin]], self.m2[[origin]]
                )

    def result(self, slots: np.ndarray) -> pd.Series:
        n = self.n[slots]
        sample = self.function.endswith("_SAMP")
        denominator = n - 1 if sample else n
        valid = denominator > 0
        variance = np.where(valid, self.m2[slots] / np.where(valid, denominator, 1), 0.0)
        variance = np.maximum(variance, 0.0)
        values = np.sqrt(variance) if self.function.startswith("STDDEV") else variance
        return from_state_array(values, valid, self.call.type)


class FirstLastAccumulator(ObjectAccumulator):
    """FIRST_VALUE and LAST_VALUE in arrival order, ignoring NULLs as Flink does."""

    def __init__(self, call: AggCall, arg_types: list[DataType], last: bool) -> None:
        super().__init__(call, arg_types)
        self.last = last
        self.sequence = np.zeros(0, dtype=np.int64)

    def grow(self, capacity: int) -> None:
        super().grow(capacity)
        self.sequence = _extend(self.sequence, capacity, -1)

    def clear(self, slots: np.ndarray) -> None:
        super().clear(slots)
        self.sequence[slots] = -1

    def update(self, slots: np.ndarray, args: list[pd.Series], sequence: np.ndarray) -> None:
        series = args[0]
        valid = series.notna().to_numpy(dtype=bool)
        positions = np.flatnonzero(valid)
        if len(positions) == 0:
            return
        chosen_slots = slots[positions]
        if self.last:
            positions, chosen_slots = positions[::-1], chosen_slots[::-1]
        _, first = np.unique(chosen_slots, return_index=True)
        values = series.to_numpy(dtype=object)
        for index in first:
            position = positions[index]
            slot = chosen_slots[index]
            if self.last or self.sequence[slot] < 0:
                self.state[slot] = values[position]
                self.sequence[slot] = sequence[position]

    def merge(self, target: np.ndarray, source: np.ndarray) -> None:
        for into, origin in zip(target, source, strict=True):
            if self.sequence[origin] < 0:
                continue
            take = self.sequence[into] < 0 or (
                self.sequence[origin] > self.sequence[into]
                if self.last
                else self.sequence[origin] < self.sequence[into]
            )
            if take:
                self.state[into] = self.state[origin]
                self.sequence[into] = self.sequence[origin]

    def result(self, slots: np.ndarray) -> pd.Series:
        return series_from_values([self.state[slot] for slot in slots], self.call.type)


class CollectAccumulator(ObjectAccumulator):
    """Values per slot with their arrival numbers: LISTAGG, ARRAY_AGG, PERCENTILE."""

    def __init__(self, call: AggCall, arg_types: list[DataType], keep_nulls: bool = False) -> None:
        super().__init__(call, arg_types)
        self.function = canonical_name(call.function)
        self.keep_nulls = keep_nulls

    def update(self, slots: np.ndarray, args: list[pd.Series], sequence: np.ndarray) -> None:
        series = args[0]
        if not self.keep_nulls:
            valid = series.notna().to_numpy(dtype=bool)
            series, slots, sequence = series[valid], slots[valid], sequence[valid]
        values = series.to_numpy(dtype=object)
        for slot, positions in group_positions(slots):
            items = list(zip(sequence[positions].tolist(), values[positions].tolist(), strict=True))
            if self.state[slot] is None:
                self.state[slot] = items
            else:
                self.state[slot].extend(items)

    def merge(self, target: np.ndarray, source: np.ndarray) -> None:
        for into, origin in zip(target, source, strict=True):
            if self.state[origin]:
                self.state[into] = (self.state[into] or []) + self.state[origin]

    def _ordered(self, slot: int) -> list[Any]:
        items = self.state[slot] or []
        return [value for _, value in sorted(items, key=lambda item: item[0])]

    def result(self, slots: np.ndarray) -> pd.Series:
        if self.function == "LISTAGG":
            separator = str(self.call.constants[0]) if self.call.constants else ","
            joined = [
                separator.join(str(v) for v in self._ordered(slot)) if self.state[slot] else None
                for slot in slots
            ]
            return series_from_values(joined, self.call.type)
        if self.function == "ARRAY_AGG":
            return pd.Series(
                [self._ordered(slot) if self.state[slot] else None for slot in slots], dtype=object
            )
        percent = float(self.call.constants[0])
        results = []
        for slot in slots:
            values = self._ordered(slot)
            results.append(
                float(np.quantile(np.asarray(values, dtype=np.float64), percent))
                if values
                else None
            )
        return series_from_values(results, self.call.type)


class SketchAccumulator(ObjectAccumulator):
    """APPROX_PERCENTILE with a mergeable KLL quantile sketch per slot."""

    #: KLL accuracy parameter: normalized rank error about 1.65 % at k = 200.
    K = 200

    def update(self, slots: np.ndarray, args: list[pd.Series], sequence: np.ndarray) -> None:
        values, valid = to_state_array(args[0], self.arg_types[0])
        values = values.astype(np.float64, copy=False)
        slots, values = slots[valid], values[valid]
        for slot, positions in group_positions(slots):
            sketch = self.state[slot]
            if sketch is None:
                sketch = self.state[slot] = kll_doubles_sketch(self.K)
            sketch.update(values[positions])

    def merge(self, target: np.ndarray, source: np.ndarray) -> None:
        for into, origin in zip(target, source, strict=True):
            if self.state[origin] is None:
                continue
            if self.state[into] is None:
                self.state[into] = self.state[origin]
            else:
                self.state[into].merge(self.state[origin])

    def result(self, slots: np.ndarray) -> pd.Series:
        percent = float(self.call.constants[0])
        values = [
            None if self.state[slot] is None else float(self.state[slot].get_quantile(percent))
            for slot in slots
        ]
        return series_from_values(values, self.call.type)

    def snapshot(self) -> dict[str, Any]:
        # Sketches are native objects: keep their serialized bytes instead.
        sketches = [None if sketch is None else sketch.serialize() for sketch in self.state]
        return {"capacity": self.capacity, "sketches": sketches}

    def restore(self, state: dict[str, Any]) -> None:
        restored = [
            None if data is None else kll_doubles_sketch.deserialize(data)
            for data in state["sketches"]
        ]
        self.state = np.empty(len(restored), dtype=object)
        self.state[:] = restored
        self.capacity = state["capacity"]


class DistinctAccumulator(ObjectAccumulator):
    """Aggregates over DISTINCT values: an insertion-ordered set per slot."""

    def __init__(self, call: AggCall, arg_types: list[DataType]) -> None:
        super().__init__(call, arg_types)
        self.function = canonical_name(call.function)

    def update(self, slots: np.ndarray, args: list[pd.Series], sequence: np.ndarray) -> None:
        series = args[0]
        valid = series.notna().to_numpy(dtype=bool)
        pairs = pd.DataFrame({"slot": slots[valid], "value": series[valid].to_numpy(dtype=object)})
        pairs = pairs.drop_duplicates()
        for slot, value in zip(pairs["slot"].tolist(), pairs["value"].tolist(), strict=True):
            seen = self.state[slot]
            if seen is None:
                seen = self.state[slot] = {}
            seen.setdefault(value, None)

    def merge(self, target: np.ndarray, source: np.ndarray) -> None:
        for into, origin in zip(target, source, strict=True):
            if self.state[origin]:
                merged = dict(self.state[into] or {})
                merged.update(self.state[origin])
                self.state[into] = merged

    def result(self, slots: np.ndarray) -> pd.Series:
        results: list[Any] = []
        for slot in slots:
            values = list(self.state[slot] or {})
            results.append(self._reduce(values))
        if self.function == "COUNT":
            return pd.Series(results, dtype="Int64")
        return series_from_values(results, self.call.type)

    def _reduce(self, values: list[Any]) -> Any:
        function = self.function
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
        if function == "LISTAGG":
            separator = str(self.call.constants[0]) if self.call.constants else ","
            return separator.join(str(value) for value in values)
        if function == "ARRAY_AGG":
            return values
        if function in MOMENT_FUNCTIONS:
            sample = function.endswith("_SAMP")
            if sample and len(values) < 2:
                return None
            variance = float(np.var(np.asarray(values, dtype=np.float64), ddof=1 if sample else 0))
            return variance**0.5 if function.startswith("STDDEV") else variance
        raise ValueError(f"DISTINCT is not supported for {function}")


class BoolAccumulator(Accumulator):
    """BOOL_AND and BOOL_OR: counts of true and of non-null values."""

    def __init__(self, call: AggCall, arg_types: list[DataType], every: bool) -> None:
        super().__init__(call, arg_types)
        self.every = every
        self.trues = np.zeros(0, dtype=np.int64)
        self.counts = np.zeros(0, dtype=np.int64)

    def grow(self, capacity: int) -> None:
        self.trues = _extend(self.trues, capacity, 0)
        self.counts = _extend(self.counts, capacity, 0)
        self.capacity = capacity

    def clear(self, slots: np.ndarray) -> None:
        self.trues[slots] = 0
        self.counts[slots] = 0

    def update(self, slots: np.ndarray, args: list[pd.Series], sequence: np.ndarray) -> None:
        values, valid = to_state_array(args[0], self.arg_types[0])
        np.add.at(self.counts, slots[valid], 1)
        np.add.at(self.trues, slots[valid], values[valid].astype(np.int64))

    def merge(self, target: np.ndarray, source: np.ndarray) -> None:
        np.add.at(self.counts, target, self.counts[source])
        np.add.at(self.trues, target, self.trues[source])

    def result(self, slots: np.ndarray) -> pd.Series:
        counts = self.counts[slots]
        values = self.trues[slots] == counts if self.every else self.trues[slots] > 0
        return from_state_array(values.astype(np.int64), counts > 0, self.call.type)


class UserAccumulator(ObjectAccumulator):
    """A user-defined aggregate: one Python object per slot."""

    def __init__(
        self, call: AggCall, arg_types: list[DataType], definition: UserAggregateDef
    ) -> None:
        super().__init__(call, arg_types)
        self.definition = definition

    def update(self, slots: np.ndarray, args: list[pd.Series], sequence: np.ndarray) -> None:
        if not args:
            return
        valid = np.logical_and.reduce([arg.notna().to_numpy(dtype=bool) for arg in args])
        columns = [arg.to_numpy(dtype=object)[valid] for arg in args]
        for slot, positions in group_positions(slots[valid]):
            instance = self.state[slot]
            if instance is None:
                instance = self.state[slot] = self.definition.factory()
            instance.accumulate(*(column[positions].tolist() for column in columns))

    def merge(self, target: np.ndarray, source: np.ndarray) -> None:
        for into, origin in zip(target, source, strict=True):
            if self.state[origin] is None:
                continue
            if self.state[into] is None:
                self.state[into] = self.state[origin]
            else:
                self.state[into].merge(self.state[origin])

    def result(self, slots: np.ndarray) -> pd.Series:
        values = [None if self.state[slot] is None else self.state[slot].result() for slot in slots]
        return series_from_values(values, self.call.type)


def make_accumulator(
    call: AggCall,
    arg_types: list[DataType],
    user_aggregates: dict[str, UserAggregateDef] | None = None,
) -> Accumulator:
    """Return the accumulator implementing one aggregate call."""
    function = canonical_name(call.function)
    if user_aggregates and call.function.upper() in user_aggregates:
        return UserAccumulator(call, arg_types, user_aggregates[call.function.upper()])
    if call.distinct:
        return DistinctAccumulator(call, arg_types)
    if function == "COUNT":
        return CountAccumulator(call, arg_types)
    if function in ("SUM", "AVG"):
        return SumAccumulator(call, arg_types, average=function == "AVG")
    if function in ("MIN", "MAX"):
        if arg_types[0].kind in NUMERIC_STATE_KINDS:
            return ExtremeAccumulator(call, arg_types, maximum=function == "MAX")
        return ObjectExtremeAccumulator(call, arg_types, maximum=function == "MAX")
    if function in MOMENT_FUNCTIONS:
        return MomentAccumulator(call, arg_types)
    if function in ("FIRST_VALUE", "LAST_VALUE"):
        return FirstLastAccumulator(call, arg_types, last=function == "LAST_VALUE")
    if function in ("LISTAGG", "PERCENTILE"):
        return CollectAccumulator(call, arg_types)
    if function == "ARRAY_AGG":
        return CollectAccumulator(call, arg_types, keep_nulls=True)
    if function == "APPROX_PERCENTILE":
        return SketchAccumulator(call, arg_types)
    if function in ("BOOL_AND", "BOOL_OR"):
        return BoolAccumulator(call, arg_types, every=function == "BOOL_AND")
    raise ValueError(f"no accumulator for aggregate {call.function}")
