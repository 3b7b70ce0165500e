"""Rolling file sink: writes a directory of part files, starting a new one by size or age.

The options follow Flink's filesystem connector: a part file rolls once it
holds 'sink.rolling-policy.file-size' bytes (default 128 MB) or has been
open 'sink.rolling-policy.rollover-interval' of processing time (default 30
min). A part file is written under a hidden name
(``.part-<run>-<n>.<ext>.inprogress``) and renamed to ``part-<run>-<n>.<ext>``
when it rolls or the sink closes, so readers of the directory (which skip
hidden files) see complete files only.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from workbench.errors import SinkError
from workbench.events.schema import Schema
from workbench.events.time import parse_duration
from workbench.sinks.base import BaseSink
from workbench.sinks.files import CsvSink, JsonLinesSink, ParquetSink, SinkMode

ROLLING_OPTIONS = ("sink.rolling-policy.file-size", "sink.rolling-policy.rollover-interval")
DEFAULT_FILE_SIZE = 128 * 1024 * 1024
DEFAULT_ROLLOVER_NS = 30 * 60 * 1_000_000_000
_SIZE = re.compile(r"^\s*(\d+)\s*([a-zA-Z]*)\s*$")
# Flink's MemorySize units, all powers of 1024.
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "bytes": 1,
    "k": 1024,
    "kb": 1024,
    "kibibytes": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "mebibytes": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
    "gibibytes": 1024**3,
}

#: Opens one part file at the given path and returns the file sink writing it.
PartSink = CsvSink | JsonLinesSink | ParquetSink
PartFactory = Callable[[Path], PartSink]


def parse_file_size(text: str) -> int:
    """Return a Flink memory size ('128mb', '1 kb', '4096') in bytes."""
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _SIZE_UNITS or int(match.group(1)) <= 0:
        message = (
            f"invalid value {text!r} for option 'sink.rolling-policy.file-size': "
            "use a positive size such as '128 mb', '64 kb' or '4096' (bytes)"
        )
        raise SinkError(message)
    return int(match.group(1)) * _SIZE_UNITS[unit]


def parse_rollover_interval(text: str) -> int:
    """Return a Flink duration in nanoseconds; a bare number counts milliseconds."""
    stripped = text.strip()
    try:
        value = parse_duration(f"{stripped} ms" if stripped.isdigit() else stripped)
    except ValueError as error:
        message = (
            f"invalid value {text!r} for option 'sink.rolling-policy.rollover-interval': {error}"
        )
        raise SinkError(message) from None
    if value <= 0:
        message = (
            f"invalid value {text!r} for option 'sink.rolling-policy.rollover-interval': "
            "use a duration above 0, such as '30 min'"
        )
        raise SinkError(message)
    return value


class RollingFileSink(BaseSink):
    """Writes rows to part files in a directory, rolling by size and processing-time age.

    ``part_factory`` opens the file sink of one part file. The policy is
    checked after each write, so a part file can exceed the size by one
    batch. 'overwrite' deletes the finished part files of the same format
    (``part-*.<ext>``) when the sink opens, and 'append' keeps them.
    ``clock`` returns processing time in nanoseconds.

    NOTE: the age is checked only when a batch arrives, so an idle part file
    stays open until the next batch or the end of the query. Flink also
    checks it on a timer ('sink.rolling-policy.check-interval').
    """

    def __init__(
        self,
        name: str,
        directory: Path,
        extension: str,
        part_factory: PartFactory,
        *,
        mode: SinkMode = "overwrite",
        file_size: int = DEFAULT_FILE_SIZE,
        rollover_ns: int = DEFAULT_ROLLOVER_NS,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        super().__init__(name)
        self.directory = directory
        self.extension = extension
        self.part_factory = part_factory
        self.mode = mode
        self.file_size = file_size
        self.rollover_ns = rollover_ns
        self.clock = clock
        self.run_id = uuid.uuid4().hex[:12]
        #: Finished part files of this run, in the order they were written.
        self.finished_files: list[Path] = []
        self._part: PartSink | None = None
        self._part_path: Path | None = None
        self._opened_at = 0
        self._count = 0

    def _open(self, schema: Schema) -> None:
        del schema
        if self.directory.exists() and not self.directory.is_dir():
            message = (
                f"sink '{self.name}': {self.directory} is a file, but a rolling sink writes "
                "part files into a directory: set 'path' to a directory"
            )
            raise SinkError(message)
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.mode == "overwrite":
            for old in self.directory.glob(f"part-*.{self.extension}"):
                old.unlink()

    def _write(self, frame: pd.DataFrame) -> None:
        if self._part is not None and self.clock() - self._opened_at >= self.rollover_ns:
            self._roll()
        part = self._part if self._part is not None else self._start_part()
        part.write(frame)
        if part.bytes_written >= self.file_size:
            self._roll()

    def _start_part(self) -> PartSink:
        path = self.directory / f".part-{self.run_id}-{self._count:05d}.{self.extension}.inprogress"
        part = self.part_factory(path)
        part.open(self.schema)
        self._part, self._part_path, self._opened_at = part, path, self.clock()
        self._count += 1
        return part

    def _roll(self) -> None:
        """Close the open part file and give it its final, visible name."""
        part, path = self._part, self._part_path
        if part is None or path is None:
            return
        self._part = self._part_path = None
        part.close()
        final = path.with_name(path.name.removeprefix(".").removesuffix(".inprogress"))
        path.replace(final)
        self.finished_files.append(final)

    def _close(self) -> None:
        self._roll()
