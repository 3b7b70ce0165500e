"""Session settings changed with SET 'key' = 'value'."""

from __future__ import annotations

import difflib
import logging
import math
import zoneinfo
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from workbench.errors import ValidationError
from workbench.events.time import parse_duration

logger = logging.getLogger(__name__)


class SettingError(ValidationError):
    """A SET statement named an unknown key or gave an invalid value."""


def _positive_int(value: str) -> str:
    if not value.isdigit() or int(value) <= 0:
        raise ValueError("use a positive whole number")
    return value


def _time_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError("use an IANA time zone name such as 'UTC' or 'Europe/Berlin'") from None
    return value


def _speed(value: str) -> str:
    if value.lower() in ("max", "step"):
        return value.lower()
    try:
        speed = float(value)
    except ValueError:
        speed = math.nan
    if not (math.isfinite(speed) and speed > 0):
        raise ValueError("use 'max', 'step' or a finite number above 0 (1 = real time)")
    return value


def _state_ttl(value: str) -> str:
    """Check a duration as Flink reads one: a bare number counts milliseconds."""
    text = value.strip()
    try:
        parse_duration(f"{text} ms" if text.isdigit() else text)
    except ValueError as error:
        raise ValueError(f"{error}; 0 keeps state forever") from None
    return text


def _count(value: str) -> str:
    if not value.isdigit():
        raise ValueError("use a whole number, 0 or more (0 turns it off)")
    return value


def _boolean(value: str) -> str:
    if value.lower() not in ("true", "false"):
        raise ValueError("use 'true' or 'false'")
    return value.lower()


def _early_delay(value: str) -> str:
    """Check a duration as Flink reads one: a bare number counts milliseconds."""
    text = value.strip()
    try:
        delay = parse_duration(f"{text} ms" if text.isdigit() else text)
    except ValueError as error:
        raise ValueError(f"{error}; 0 turns the interval off") from None
    if delay < 0:
        raise ValueError("the delay cannot be negative")
    return text


def _progress(value: str) -> str:
    if value.lower() not in ("auto", "true", "false"):
        raise ValueError("use 'auto', 'true' or 'false'")
    return value.lower()


@dataclass(frozen=True)
class Setting:
    key: str
    default: str
    description: str
    check: Callable[[str], str]


SETTINGS = {
    setting.key: setting
    for setting in (
        Setting(
            "table.local-time-zone",
            "UTC",
            "time zone of TIMESTAMP_LTZ values and of CURRENT_TIMESTAMP",
            _time_zone,
        ),
        Setting(
            "table.exec.state.ttl",
            "0 ms",
            "how long a regular join keeps each row in state after it arrives, in processing "
            "time; 0 keeps rows forever, so joins without time bounds are rejected",
            _state_ttl,
        ),
        Setting(
            "table.exec.emit.early-fire.enabled",
            "false",
            "emit provisional results of open windows before their final results",
            _boolean,
        ),
        Setting(
            "table.exec.emit.early-fire.delay",
            "0 ms",
            "event time between two early results of a window aggregate (a bare number "
            "counts milliseconds); 0 turns the interval off",
            _early_delay,
        ),
        Setting(
            "workbench.emit.early-fire.rows",
            "0",
            "input rows between two early results of a window aggregate; 0 turns it off",
            _count,
        ),
        Setting(
            "workbench.replay.batch-rows",
            "262144",
            "rows per micro-batch when replaying as fast as possible",
            _positive_int,
        ),
        Setting(
            "workbench.replay.speed",
            "max",
            "'max' (as fast as possible), 'step', or a factor of real time",
            _speed,
        ),
        Setting(
            "workbench.replay.progress", "auto", "show a progress bar on long replays", _progress
        ),
        Setting(
            "workbench.live.max-result-rows",
            "100000",
            "result rows a query on a live feed keeps for to_pandas(); older rows are discarded",
            _positive_int,
        ),
        Setting(
            "workbench.match.max-partial-matches",
            "100000",
            "partial matches MATCH_RECOGNIZE may hold in one partition before the query fails",
            _positive_int,
        ),
    )
}

#: Key prefixes of Flink options that a pasted Flink script may set. They are
#: stored so SET shows them, but the workbench does not act on them.
FLINK_PREFIXES = ("table.", "pipeline.", "execution.", "parallelism.", "sql-client.", "state.")


def _suggestion(key: str) -> str:
    close = difflib.get_close_matches(key, list(SETTINGS), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else "known keys: " + ", ".join(SETTINGS)


class Settings(Mapping[str, str]):
    """Current values: the defaults, overridden by SET."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values: dict[str, str] = {}
        for key, value in (values or {}).items():
            self.set(key, value)

    def __getitem__(self, key: str) -> str:
        if key in self._values:
            return self._values[key]
        return SETTINGS[key].default

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*SETTINGS, *self._values]))

    def __len__(self) -> int:
        return len(list(iter(self)))

    def set(self, key: str, value: str) -> None:
        setting = SETTINGS.get(key)
        if setting is None:
            if key.startswith(FLINK_PREFIXES):
                logger.info("setting %r is stored but has no effect in the workbench", key)
                self._values[key] = value
                return
            raise SettingError(f"unknown setting '{key}': {_suggestion(key)}")
        try:
            self._values[key] = setting.check(value)
        except ValueError as error:
            raise SettingError(f"invalid value {value!r} for '{key}': {error}") from None

    def reset(self, key: str | None = None) -> None:
        """Restore one key (or, without a key, every key) to its default.

        A key that is neither a setting of the workbench, nor a Flink key
        accepted by SET, nor set raises SettingError, as SET does.
        """
        if key is None:
            self._values.clear()
        elif key in self._values:
            del self._values[key]
        elif key not in SETTINGS and not key.startswith(FLINK_PREFIXES):
            raise SettingError(f"unknown setting '{key}': {_suggestion(key)}")

    @property
    def batch_rows(self) -> int:
        return int(self["workbench.replay.batch-rows"])

    @property
    def max_partial_matches(self) -> int:
        return int(self["workbench.match.max-partial-matches"])

    @property
    def time_zone(self) -> str:
        return self["table.local-time-zone"]

    @property
    def early_fire(self) -> tuple[int, int] | None:
        """Return (event-time interval in ns, rows) between early window results, or None when off."""
        if self["table.exec.emit.early-fire.enabled"] != "true":
            return None
        text = self["table.exec.emit.early-fire.delay"]
        interval = parse_duration(f"{text} ms" if text.isdigit() else text)
        rows = int(self["workbench.emit.early-fire.rows"])
        if interval <= 0 and rows <= 0:
            logger.warning(
                "early firing is enabled but neither 'table.exec.emit.early-fire.delay' "
                "nor 'workbench.emit.early-fire.rows' is above 0, so no early results are emitted"
            )
            return None
        return interval, rows

    @property
    def state_ttl_ns(self) -> int:
        """Return 'table.exec.state.ttl' in nanoseconds (0: rows are kept forever)."""
        text = self["table.exec.state.ttl"]
        return parse_duration(f"{text} ms" if text.isdigit() else text)
