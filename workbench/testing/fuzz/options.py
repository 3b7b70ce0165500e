"""Options of a fuzzing run: stream sizes, value ranges, time span, disorder, search budget."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import ValidationError
from workbench.events.time import parse_duration

Duration = str | float | None


@dataclass(frozen=True)
class FuzzOptions:
    """How the fuzzer generates input streams and how long it searches.

    - ``max_rows``: most rows in each input table's stream.
    - ``max_examples``: most streams tried before giving up (shrinking
      tries more once a stream is found).
    - ``keys``: how many distinct made-up values a string column takes
      (its key cardinality), for all columns or per column name. The rule's
      own string literals come on top.
    - ``values``: the exact values a column takes, replacing made-up ones.
    - ``ranges``: (low, high) bounds of a numeric column, inclusive.
    - ``time_span``: the longest distance between the first and the last
      event time of a stream (a duration such as '10 min'); default twice
      the longest INTERVAL in the rule, at least one minute.
    - ``out_of_order``: how far behind the running maximum event time a
      row may arrive; default just under the table's watermark delay, so
      no row is late. A value past the delay produces late rows.
    - ``nulls``: whether nullable columns may hold NULL.
    - ``missing_time``: whether rows may lack their event time (the engine
      rejects them).
    - ``seed``: a seed for a random search; None searches the same way every
      time (hypothesis's derandomized mode).
    - ``batch_rows``: the replay's micro-batch size; None keeps the
      session's setting.
    """

    max_rows: int = 8
    max_examples: int = 300
    keys: int | Mapping[str, int] = 3
    values: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    time_span: Duration = None
    out_of_order: Duration = None
    nulls: bool = True
    missing_time: bool = False
    seed: int | None = None
    batch_rows: int | None = None

    def __post_init__(self) -> None:
        if self.max_rows < 1:
            raise ValidationError(f"invalid max_rows {self.max_rows}: use 1 or more")
        if self.max_examples < 1:
            raise ValidationError(f"invalid max_examples {self.max_examples}: use 1 or more")
        if self.batch_rows is not None and self.batch_rows < 1:
            raise ValidationError(f"invalid batch_rows {self.batch_rows}: use 1 or more")
        counts = self.keys.values() if isinstance(self.keys, Mapping) else [self.keys]
        for count in counts:
            if count < 1:
                raise ValidationError(f"invalid keys {self.keys!r}: each count must be 1 or more")
        for column, bounds in self.ranges.items():
            low, high = bounds
            if low > high:
                raise ValidationError(
                    f"invalid range {bounds!r} for {column!r}: the low bound is above the high one"
                )
        for column, choices in self.values.items():
            if len(choices) == 0:
                raise ValidationError(f"values for {column!r} are empty: give at least one value")
        for name in ("time_span", "out_of_order"):
            duration_ms(getattr(self, name), name)

    def keys_for(self, column: str) -> int:
        """Return the number of made-up values for ``column``."""
        if isinstance(self.keys, Mapping):
            return int(_lookup(self.keys, column, 3))
        return self.keys

    def values_for(self, column: str) -> Sequence[Any] | None:
        return _lookup(self.values, column, None)

    def range_for(self, column: str) -> tuple[float, float] | None:
        return _lookup(self.ranges, column, None)

    def named_columns(self) -> set[str]:
        """Return the column names the per-column options mention, in lower case."""
        names = {name.lower() for name in self.values} | {name.lower() for name in self.ranges}
        if isinstance(self.keys, Mapping):
            names |= {name.lower() for name in self.keys}
        return names


def duration_ms(value: Duration, name: str) -> int | None:
    """Return a duration option in milliseconds (None stays None); raise on a bad value."""
    if value is None:
        return None
    try:
        nanoseconds = parse_duration(value)
    except (TypeError, ValueError) as error:
        raise ValidationError(
            f"invalid {name} {value!r}: {error}", hint="give a duration such as '10 min' or '5 s'"
        ) from None
    if nanoseconds < 0:
        raise ValidationError(f"invalid {name} {value!r}: it cannot be negative")
    return nanoseconds // 1_000_000


def _lookup(mapping: Mapping[str, Any], column: str, default: Any) -> Any:
    """Return the entry of ``column`` in ``mapping``, matching names without regard to case."""
    for name, value in mapping.items():
        if name.lower() == column.lower():
            return value
    return default
