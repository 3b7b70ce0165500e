"""The replay progress bar: tqdm over the readers' sizes, on stderr."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from tqdm.auto import tqdm

from workbench.sources.reader import Reader

#: Seconds a replay runs before its progress bar appears, so short ones show none.
PROGRESS_DELAY_SECONDS = 2.0


class ReplayProgress:
    """A progress bar of the bytes (or rows) that the readers have consumed.

    The total is the sum of the readers' size hints. Readers of files count
    bytes; with any in-memory reader among them the bar counts in 'rows',
    which is then only a rough measure.
    """

    def __init__(self, readers: Sequence[Reader]) -> None:
        self._readers = list(readers)
        hints = [reader.size_hint() for reader in self._readers]
        by_bytes = {reader.size_unit for reader in self._readers} == {"bytes"}
        total = sum(hint for hint in hints if hint is not None)
        self._bar: Any = tqdm(
            total=total or None,
            unit="B" if by_bytes else "rows",
            unit_scale=True,
            delay=PROGRESS_DELAY_SECONDS,
            file=sys.stderr,
            desc="replay",
            leave=False,
        )
        self._position = 0

    @property
    def position(self) -> int:
        """How much of the total the bar shows as consumed."""
        return self._position

    def update(self) -> None:
        position = sum(reader.position() for reader in self._readers)
        if position > self._position:
            self._bar.update(position - self._position)
            self._position = position

    def close(self) -> None:
        self._bar.close()
