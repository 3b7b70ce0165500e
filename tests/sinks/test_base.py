from pathlib import Path

import pandas as pd
import pytest

from workbench.errors import SinkError
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.sinks.files import CsvSink
from workbench.sinks.memory import MemorySink

SCHEMA = Schema.of([("id", t.BIGINT)])


def test_open_failure_is_sink_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    sink = CsvSink("out", blocker / "sub" / "a.csv")
    with pytest.raises(SinkError, match="sink 'out': open failed: "):
        sink.open(SCHEMA)
    assert not sink.is_open


def test_close_is_idempotent() -> None:
    sink = MemorySink()
    sink.close()
    sink.open(SCHEMA)
    sink.close()
    sink.close()
    assert not sink.is_open


def test_write_selects_schema_columns() -> None:
    sink = MemorySink()
    sink.open(SCHEMA)
    sink.write(pd.DataFrame({"extra": [1], "ID": pd.array([4], dtype="Int64")}))
    assert list(sink.frames[0].columns) == ["id"]
    assert sink.to_pandas()["id"].tolist() == [4]
