import io

import pandas as pd
import pytest

from workbench.errors import SinkError
from workbench.events import types as t
from workbench.events.schema import Schema
from workbench.sinks.base import Sink
from workbench.sinks.memory import BlackholeSink, CallbackSink, MemorySink, PrintSink

SCHEMA = Schema.of([("id", t.BIGINT), ("name", t.STRING)])


def frame(ids: list[int | None], names: list[str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": pd.array(ids, dtype="Int64"),
            "name": pd.array(names, dtype=pd.StringDtype("pyarrow")),
        }
    )


def test_memory_sink_concatenates() -> None:
    sink = MemorySink()
    sink.open(SCHEMA)
    sink.write(frame([1], ["a"]))
    sink.write(frame([2, None], ["b", None]))
    sink.close()
    result = sink.to_pandas()
    assert result["id"].tolist() == [1, 2, pd.NA]
    assert str(result["id"].dtype) == "Int64"
    assert sink.rows_written == 3


def test_memory_sink_empty_keeps_types() -> None:
    sink = MemorySink()
    sink.open(SCHEMA)
    result = sink.to_pandas()
    assert len(result) == 0
    assert str(result["id"].dtype) == "Int64"
    assert result["name"].dtype == pd.StringDtype("pyarrow")


def test_memory_sink_reopen_starts_over() -> None:
    sink = MemorySink()
    sink.open(SCHEMA)
    sink.write(frame([1], ["a"]))
    sink.open(SCHEMA)
    assert sink.to_pandas().empty
    assert sink.rows_written == 0


def test_write_before_open_raises() -> None:
    with pytest.raises(SinkError, match="sink 'memory' is not open: call open"):
        MemorySink().write(frame([1], ["a"]))


def test_callback_sink_wraps_errors() -> None:
    received: list[int] = []

    def func(rows: pd.DataFrame) -> None:
        received.extend(rows["id"].tolist())
        raise KeyError("boom")

    sink = CallbackSink(func, name="hook")
    sink.open(SCHEMA)
    with pytest.raises(SinkError, match="sink 'hook': write failed: KeyError: 'boom'"):
        sink.write(frame([5], ["e"]))
    assert received == [5]


def test_callback_sink_skips_empty_frames() -> None:
    calls: list[int] = []
    sink = CallbackSink(lambda rows: calls.append(len(rows)))
    sink.open(SCHEMA)
    sink.write(frame([], []))
    assert calls == []


def test_print_sink_format() -> None:
    stream = io.StringIO()
    sink = PrintSink(identifier="out", stream=stream)
    sink.open(SCHEMA)
    sink.write(frame([1, None], ["a", None]))
    assert stream.getvalue() == "out> +I[1, a]\nout> +I[null, null]\n"


def test_print_sink_without_identifier(capsys: pytest.CaptureFixture[str]) -> None:
    sink = PrintSink()
    sink.open(Schema.of([("ok", t.BOOLEAN)]))
    sink.write(pd.DataFrame({"ok": pd.array([True], dtype="boolean")}))
    assert capsys.readouterr().out == "+I[true]\n"


def test_print_sink_standard_error(capsys: pytest.CaptureFixture[str]) -> None:
    sink = PrintSink(standard_error=True)
    sink.open(SCHEMA)
    sink.write(frame([1], ["a"]))
    captured = capsys.readouterr()
    assert captured.err == "+I[1, a]\n"
    assert captured.out == ""


def test_blackhole_counts() -> None:
    sink = BlackholeSink()
    sink.open(SCHEMA)
    sink.write(frame([1, 2], ["a", "b"]))
    assert sink.rows_written == 2


def test_sinks_follow_protocol() -> None:
    for sink in (MemorySink(), CallbackSink(print), PrintSink(), BlackholeSink()):
        assert isinstance(sink, Sink)
