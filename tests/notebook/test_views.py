"""Error display, live views, the view registry and refresh pacing, without a kernel."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench import Session
from workbench.errors import QueryRuntimeError, SourceError, ValidationError
from workbench.notebook.display import ErrorDisplay, Message, is_user_error
from workbench.notebook.views import (
    LiveView,
    RefreshPacer,
    TablePart,
    ViewContext,
    latest_rows,
    register_view,
    unregister_view,
    view_kinds,
)
from workbench.results import QueryResult


def unknown_column_error() -> ValidationError:
    session = Session(progress=False)
    session.from_pandas("t", pd.DataFrame({"price": [1.0]}))
    with pytest.raises(ValidationError) as raised:
        session.sql("SELECT 1 AS one,\n       pirce FROM t")
    return raised.value


def test_error_text_has_line_column_caret() -> None:
    text = repr(ErrorDisplay(unknown_column_error()))

    assert text.splitlines() == [
        "line 2, column 8: column 'pirce' not found",
        "         pirce FROM t",
        "         ^^^^^",
        "hint: did you mean 'price'?",
    ]


def test_error_html_marks_offending_text() -> None:
    html = ErrorDisplay(unknown_column_error())._repr_html_()

    assert "line 2, column 8" in html
    assert "^^^^^" in html
    assert "text-decoration:underline wavy red'>pirce</span>" in html
    assert "Traceback" not in html


def test_error_html_without_position() -> None:
    html = ErrorDisplay(SourceError("cannot open 'x.csv': not found"))._repr_html_()

    assert "SourceError" in html
    assert "cannot open &#x27;x.csv&#x27;" in html


def test_wrapped_defect_not_user_error() -> None:
    try:
        try:
            raise TypeError("bad operand")
        except TypeError as defect:
            raise QueryRuntimeError("TypeError: bad operand", query="q") from defect
    except QueryRuntimeError as error:
        wrapped = error

    assert is_user_error(unknown_column_error())
    assert not is_user_error(wrapped)
    assert not is_user_error(ValueError("x"))


def test_message_html_escapes() -> None:
    message = Message("first <line>\nsecond & more")

    assert repr(message) == "first <line>\nsecond & more"
    assert message._repr_html_() == (
        "<div class='workbench-message'>first &lt;line&gt;</div><pre>second &amp; more</pre>"
    )


def finished_query(rows: int = 30) -> QueryResult:
    session = Session(progress=False)
    session.from_pandas("t", pd.DataFrame({"n": range(rows)}))
    result = session.sql("SELECT n FROM t")
    assert isinstance(result, QueryResult)
    result.run()
    return result


def context(rows: int = 5) -> ViewContext:
    return ViewContext(lambda: rows, lambda: None)


def test_latest_rows_tail() -> None:
    result = finished_query()

    assert latest_rows(result, 3)["n"].tolist() == [27, 28, 29]


def test_latest_rows_before_run() -> None:
    session = Session(progress=False)
    session.from_pandas("t", pd.DataFrame({"n": [1]}))
    result = session.sql("SELECT n FROM t")
    assert isinstance(result, QueryResult)

    assert list(latest_rows(result, 3).columns) == ["n"]
    assert len(latest_rows(result, 3)) == 0


def test_table_part_shows_caption_and_rows() -> None:
    part = TablePart(finished_query(), context(2))

    assert "latest rows (2 of 30)" in part.widget.value
    assert "<td>29</td>" in part.widget.value
    assert "<td>27</td>" not in part.widget.value


def test_live_view_status_line() -> None:
    view = LiveView(finished_query(), context())

    assert view.status_text() == (
        f"{view.name}: finished · 30 rows out · 0 late · watermark end of input"
    )
    assert view.name in view.status.value


def test_closed_view_not_updated() -> None:
    result = finished_query()
    view = LiveView(result, context())
    pacer = RefreshPacer(lambda: 2.0)
    pacer.add(view)
    before = view.status.value

    view.close()
    result.name = "renamed"
    pacer.flush()

    assert view.closed
    assert view.status.value == before
    assert pacer.views == []


def test_widget_closed_elsewhere_stops_updates() -> None:
    view = LiveView(finished_query(), context())
    pacer = RefreshPacer(lambda: 2.0)
    pacer.add(view)

    view.widget.close()
    pacer.flush()

    assert view.closed
    assert pacer.views == []


def test_pacer_limits_refresh_rate() -> None:
    now = [0.0]
    pacer = RefreshPacer(lambda: 2.0, clock=lambda: now[0])

    for _ in range(100):
        pacer.touch()
        now[0] += 0.01

    # One second at two refreshes a second: at 0.0, 0.5 and 1.0 at most.
    assert pacer.refreshes <= 3
    assert pacer.refreshes >= 2


def test_register_view_kind() -> None:
    updates: list[str] = []

    class Probe:
        def __init__(self, result: QueryResult, context: ViewContext) -> None:
            self.result = result
            self.widget = TablePart(result, context).widget

        def update(self) -> None:
            updates.append(self.result.name)

        def close(self) -> None:
            self.widget.close()

    register_view("probe", Probe)
    try:
        view = LiveView(finished_query(), context(), ("table", "probe"))
        view.update()
        kinds = view_kinds()
    finally:
        unregister_view("probe")

    assert kinds[0] == "table"
    assert "probe" in kinds
    assert len(view.parts) == 2
    assert updates == [view.name, view.name]
    assert "probe" not in view_kinds()


def test_register_view_invalid_kind() -> None:
    with pytest.raises(ValueError, match="invalid view kind"):
        register_view("two words", TablePart)
