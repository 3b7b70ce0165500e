import io
import sys

import pandas as pd
import pytest

from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.sources import progress
from workbench.sources.frame_reader import DataFrameReader
from workbench.sources.progress import ReplayProgress


def test_progress_counts_consumed_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(progress, "PROGRESS_DELAY_SECONDS", 0)
    monkeypatch.setattr(sys, "stderr", stream)
    reader = DataFrameReader("r", pd.DataFrame({"v": range(10)}), Schema.of([("v", t.BIGINT)]), 4)
    bar = ReplayProgress([reader])
    chunks = reader.chunks()
    next(chunks)
    bar.update()
    assert bar.position == 4
    list(chunks)
    bar.update()
    assert bar.position == 10
    bar.close()
    assert "replay:" in stream.getvalue()
    assert "10.0" in stream.getvalue()
