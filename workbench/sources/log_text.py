"""Parts shared by the line-oriented log readers: Zeek, syslog and web access logs.

A log reader reads a file in blocks of whole lines (see
:mod:`workbench.sources.records`), turns the non-blank lines of a block into
one Arrow string array, and parses that array with regular expressions that
pyarrow runs over all lines at once (RE2 syntax). Python code runs per line
only for the lines that fail to parse, to say why they fail.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.events.conform import ConformOptions
from workbench.events.convert import from_arrow, paused_gc
from workbench.events.schema import Schema
from workbench.sources.reader import DEFAULT_CHUNK_ROWS, CountingFile, FileReader
from workbench.sources.records import (
    DEFAULT_BLOCK_BYTES,
    Block,
    RecordTexts,
    iter_blocks,
    record_text,
)

logger = logging.getLogger(__name__)

NAT = np.iinfo(np.int64).min
NS_PER_SECOND = 1_000_000_000
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = pa.array(MONTH_NAMES)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
# datetime64[ns] covers 1677-09-21 to 2262-04-11; whole years inside that range are valid.
_MIN_YEAR = 1678
_MAX_YEAR = 2261
_STRING = pd.StringDtype("pyarrow")
_BLANK_LINE = r"^\s*$"


@dataclass(frozen=True)
class Lines:
    """The non-blank lines of a block: their text and their record numbers in the block.

    ``errors`` is the codec error handler that decoded bytes that are not valid UTF-8.
    """

    block: Block
    records: np.ndarray
    text: pa.Array
    errors: str = "replace"

    def __len__(self) -> int:
        return len(self.records)

    @property
    def numbers(self) -> np.ndarray:
        """The 1-based line number in the file of each line."""
        return np.asarray(self.block.index.lines[self.records], dtype=np.int64)

    def raw(self, position: int) -> str:
        """Return the text of one line as written, invalid UTF-8 decoded as in ``text``."""
        record = int(self.records[position])
        return record_text(self.block.data, self.block.index, record, self.errors)

    def raws(self, positions: np.ndarray) -> RecordTexts:
        return RecordTexts(self.block.data, self.block.index, self.records[positions], self.errors)

    def select(self, positions: np.ndarray) -> Lines:
        """Return the lines at ``positions``, in that order."""
        taken = self.text.take(pa.array(positions, type=pa.int64()))
        return Lines(self.block, self.records[positions], taken, self.errors)


def block_text(block: Block, errors: str = "replace") -> pa.Array:
    """Return every record of a block as one large_string array, without line terminators.

    The bytes of the records are gathered with numpy and wrapped as Arrow
    buffers, so no Python string is made per line. A block that is not valid
    UTF-8 is decoded line by line, the invalid bytes handled by the codec
    error handler ``errors``: 'replace' gives U+FFFD, 'backslashreplace' '\\xNN'.
    """
    index = block.index
    starts = np.asarray(index.starts, dtype=np.int64)
    stops = np.asarray(index.stops, dtype=np.int64)
    buffer = np.frombuffer(block.data, dtype=np.uint8)
    # Between one record's stop and the next record's start lie its '\n' or '\r\n'.
    next_starts = np.append(starts[1:], len(buffer))
    gaps = next_starts - stops
    keep = np.ones(len(buffer), dtype=bool)
    keep[stops[gaps >= 1]] = False
    keep[stops[gaps >= 2] + 1] = False
    values = buffer[keep].tobytes()
    offsets = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(stops - starts, out=offsets[1:])
    try:
        values.decode("utf-8")
    except UnicodeDecodeError:
        texts = [record_text(block.data, index, record, errors) for record in range(len(index))]
        return pa.array(texts, type=pa.large_string())
    return pa.LargeStringArray.from_buffers(
        len(starts), pa.py_buffer(offsets.tobytes()), pa.py_buffer(values)
    )


def block_lines(block: Block, errors: str = "replace") -> tuple[Lines, int]:
    """Return the non-blank lines of a block and the number of blank (or all-space) lines."""
    text = block_text(block, errors)
    blank = pc.match_substring_regex(text, _BLANK_LINE).to_numpy(zero_copy_only=False)
    if not blank.any():
        return Lines(block, np.arange(len(text), dtype=np.int64), text, errors), 0
    records = np.flatnonzero(~blank).astype(np.int64)
    return Lines(block, records, text.filter(pa.array(~blank)), errors), int(blank.sum())


class LogReader(FileReader):
    """Base of the log readers: blocks of non-blank lines in, conformed chunks out.

    A subclass implements :meth:`_parse`, which turns the lines of one block
    into frames of raw columns, each with the positions (in the block's lines)
    of its rows. It rejects the lines it cannot parse with :meth:`_reject`.
    Blank lines are skipped and counted in ``counters.lines_skipped``, so rows
    read, rows rejected and lines skipped add up to the lines of the files.
    """

    #: The codec error handler for bytes that are not valid UTF-8, see :func:`block_text`.
    decode_errors = "replace"

    def __init__(
        self,
        name: str,
        paths: list[Path],
        schema: Schema,
        *,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        conform_options: ConformOptions | None = None,
        block_bytes: int = DEFAULT_BLOCK_BYTES,
    ) -> None:
        super().__init__(
            name, paths, schema, chunk_rows=chunk_rows, conform_options=conform_options
        )
        self.block_bytes = block_bytes

    def _read_file(self, file: CountingFile) -> Iterator[pd.DataFrame]:
        self._start_file(file)
        for block in iter_blocks(file, block_bytes=self.block_bytes):
            lines, blank = block_lines(block, self.decode_errors)
            self.counters.lines_skipped += blank
            if not len(lines):
                continue
            before = len(self.rejected)
            with paused_gc():
                parts = list(self._parse(lines, file))
                self._after_reject(before, file)
                results = [
                    self._conform(
                        frame, file, lines=lines.numbers[positions], raw=lines.raws(positions)
                    )
                    for frame, positions in parts
                    if len(frame)
                ]
            self._sort_rejected(before)
            yield from results

    def _start_file(self, file: CountingFile) -> None:
        """Reset the per-file state before the first block of ``file``."""

    def _parse(self, lines: Lines, file: CountingFile) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        raise NotImplementedError

    def _reject(self, lines: Lines, positions: np.ndarray, reasons: list[str]) -> None:
        """Reject the lines at ``positions`` with one reason each."""
        numbers = lines.numbers
        for position, reason in zip(positions.tolist(), reasons, strict=True):
            self.rejected.add(reason, lines.raw(position), line=int(numbers[position]))


# Columns ------------------------------------------------------------------------


def string_series(values: pa.Array) -> pd.Series:
    """Return an Arrow string array as a Series of the STRING column dtype."""
    if not pa.types.is_large_string(values.type):
        values = values.cast(pa.large_string())
    return from_arrow(values, _STRING)


def null_if(values: pa.Array, *texts: str) -> pa.Array:
    """Return ``values`` with the given texts (such as '-' or '') replaced by null."""
    drop = pc.is_in(values, value_set=pa.array(texts, type=values.type))
    return pc.if_else(drop, pa.scalar(None, type=values.type), values)


def digits(values: pa.Array) -> np.ndarray:
    """Return int64 values of text of at most 18 digits, 0 for '' and null.

    Callers match the text with a regular expression that allows digits only,
    so the cast cannot fail and cannot overflow.
    """
    cleaned = null_if(values, "")
    return np.asarray(
        pc.fill_null(pc.cast(cleaned, pa.int64()), 0).to_numpy(zero_copy_only=False),
        dtype=np.int64,
    )


def fraction_ns(values: pa.Array) -> np.ndarray:
    """Return the nanoseconds of decimal fractions of a second given as digit text ('25' is 0.25 s)."""
    cut = pc.utf8_slice_codeunits(pc.fill_null(values, ""), 0, 9)
    return digits(pc.utf8_rpad(cut, 9, "0"))


def month_numbers(names: pa.Array) -> np.ndarray:
    """Return 1 to 12 for English month abbreviations ('Jan'), 0 for anything else."""
    found = pc.index_in(names, value_set=_MONTHS)
    return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), np.int64) + 1


def zone_offset_seconds(zones: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Return seconds east of UTC of offsets such as 'Z', '+0200' or '-07:00', and their validity.

    Empty text and null are offset 0 and valid: callers treat them as "no
    offset written". Hours above 23 or minutes above 59 are invalid.
    """
    parts = pc.extract_regex(
        pc.fill_null(zones, ""), r"^(?P<sign>[+-]?)(?P<hours>\d{2}):?(?P<minutes>\d{2})$"
    )
    matched = np.asarray(parts.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    hours = digits(pc.struct_field(parts, "hours"))
    minutes = digits(pc.struct_field(parts, "minutes"))
    negative = np.asarray(
        pc.equal(pc.struct_field(parts, "sign"), "-").to_numpy(zero_copy_only=False), dtype=bool
    )
    seconds = np.where(negative, -1, 1) * (hours * 3600 + minutes * 60)
    plain = pc.is_in(pc.fill_null(zones, ""), value_set=pa.array(["", "Z", "z"]))
    unzoned = np.asarray(plain.to_numpy(zero_copy_only=False), dtype=bool)
    valid = unzoned | (matched & (hours < 24) & (minutes < 60))
    return np.where(matched, seconds, 0), valid


def civil_ns(
    year: np.ndarray,
    month: np.ndarray,
    day: np.ndarray,
    *,
    hour: np.ndarray,
    minute: np.ndarray,
    second: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Return nanoseconds since 1970-01-01 of proleptic Gregorian date-times, and their validity.

    A value is invalid when a field is out of range (month 13, February 30,
    hour 24, second 60) or the year lies outside 1678 to 2261, the range of
    ``datetime64[ns]``. Invalid values come back as 0. The day count is Howard
    Hinnant's ``days_from_civil`` algorithm, computed on whole arrays.
    """
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_index = np.clip(month, 0, 12)
    month_days = _DAYS_IN_MONTH[month_index] + ((month_index == 2) & leap)
    valid = (
        (year >= _MIN_YEAR)
        & (year <= _MAX_YEAR)
        & (month >= 1)
        & (month <= 12)
        & (day >= 1)
        & (day <= month_days)
        & (hour < 24)
        & (minute < 60)
        & (second < 60)
        & (hour >= 0)
        & (minute >= 0)
        & (second >= 0)
    )
    shifted_year = year - (month <= 2)
    era = np.floor_divide(shifted_year, 400)
    year_of_era = shifted_year - era * 400
    day_of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146_097 + day_of_era - 719_468
    seconds = days * 86_400 + hour * 3600 + minute * 60 + second
    return np.where(valid, seconds * NS_PER_SECOND, 0), valid


def localize_ns(ns: np.ndarray, local: np.ndarray, time_zone: str) -> np.ndarray:
    """Return UTC nanoseconds for the values marked ``local``, read as wall times in ``time_zone``.

    A wall time that occurs twice when clocks go back takes the earlier
    instant. A wall time in the gap when clocks go forward moves to the first
    instant after the gap.
    """
    if time_zone == "UTC" or not local.any():
        return ns
    wall = pd.Series(ns[local].view("M8[ns]"))
    instants = wall.dt.tz_localize(
        time_zone, ambiguous=np.ones(len(wall), dtype=bool), nonexistent="shift_forward"
    )
    result = ns.copy()
    result[local] = instants.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().view(np.int64)
    return result


def timestamp_series(ns: np.ndarray, valid: np.ndarray) -> pd.Series:
    """Return nanoseconds as a datetime64[ns] Series with NaT where not ``valid``."""
    return pd.Series(np.where(valid, ns, NAT).view("M8[ns]"))


# Escapes ------------------------------------------------------------------------

_HEX_ESCAPE = re.compile(rb"\\x([0-9A-Fa-f]{2})")


def unescape_hex(text: str) -> str:
    r"""Return ``text`` with ``\xNN`` escapes replaced by the bytes they stand for.

    The bytes are decoded as UTF-8. When they are not valid UTF-8 the text is
    returned as written, escapes included, so nothing is lost.
    """
    if "\\x" not in text:
        return text
    raw = _HEX_ESCAPE.sub(lambda match: bytes([int(match[1], 16)]), text.encode("utf-8"))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return text


def map_texts(values: pa.Array, pattern: str, function: Callable[[str], str]) -> pa.Array:
    """Apply ``function`` to the values that contain ``pattern``, leaving the rest as they are."""
    hits = pc.fill_null(pc.match_substring(values, pattern), False)
    if not pc.any(hits).as_py():
        return values
    changed = [function(text) for text in values.filter(hits).to_pylist()]
    return pc.replace_with_mask(values, hits, pa.array(changed, type=values.type))


def list_items(lists: pa.Array, index: int) -> pa.Array:
    """Return item ``index`` of each list (from ``pc.split_pattern``), null where it has none."""
    lengths = np.asarray(
        pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False), np.int64
    )
    starts = np.asarray(lists.offsets.to_numpy(zero_copy_only=False)[:-1], dtype=np.int64)
    present = lengths > index
    positions = pa.array(starts + index, mask=~present, type=pa.int64())
    return lists.values.take(positions)


#: RE2 extracts submatches with its fast one-pass engine only when a pattern
#: has at most 4 capture groups. With more, pyarrow's extract_regex is about
#: three times slower: 0.09 s against 0.27 s for 50,000 access log lines,
#: measured with pyarrow 26. Longer patterns are therefore split into passes
#: of at most this many groups, each handing the rest of the text to the next
#: in a group named 'rest'.
MAX_GROUPS_PER_PASS = 4
REST = "rest"


def extract_passes(values: pa.Array, patterns: list[str]) -> tuple[dict[str, pa.Array], np.ndarray]:
    """Run chained extract_regex passes; return the groups and which values matched every pass.

    Each pattern but the last ends in a group named 'rest', which the next
    pattern reads. Groups of values that fail a pass are '' from then on.
    """
    fields: dict[str, pa.Array] = {}
    ok = np.ones(len(values), dtype=bool)
    current = values
    for pattern in patterns:
        found = pc.extract_regex(current, pattern)
        ok &= matched(found)
        groups = struct_fields(found)
        current = groups.pop(REST, current)
        fields.update(groups)
    return fields, ok


def struct_fields(parts: pa.Array) -> dict[str, pa.Array]:
    """Return the fields of a struct array from ``pc.extract_regex`` by group name."""
    kind = parts.type
    return {kind.field(i).name: pc.struct_field(parts, [i]) for i in range(kind.num_fields)}


def matched(parts: pa.Array) -> np.ndarray:
    """Return which lines a ``pc.extract_regex`` result matched."""
    return np.asarray(parts.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
