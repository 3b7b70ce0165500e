"""The %%cep and %cep magics in an in-process IPython shell (no kernel, no asyncio loop)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell

import workbench.notebook
from workbench import Session
from workbench.errors import ValidationError
from workbench.notebook.display import ErrorDisplay, Message
from workbench.notebook.views import LiveView
from workbench.results import QueryResult, StatementResult

ROOT = Path(__file__).resolve().parents[2]
CREATE_BIDS = """
CREATE TABLE bids (
    bid_id BIGINT, placed_at TIMESTAMP(3), item STRING, bidder STRING, price DOUBLE,
    channel STRING,
    WATERMARK FOR placed_at AS placed_at - INTERVAL '30' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'datasets/bids.csv', 'format' = 'csv')
"""
WINDOWS = """
SELECT item, window_start, COUNT(*) AS bids
FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(placed_at), INTERVAL '10' MINUTES))
GROUP BY item, window_start, window_end
"""


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    if "workbench" not in ip.extension_manager.loaded:
        ip.extension_manager.load_extension("workbench")
    workbench.notebook.use_session(Session(base_dir=ROOT, progress=False))
    run(ip, "%%cep\n" + CREATE_BIDS)
    yield ip
    workbench.notebook.controller().close()


def run(ip: InteractiveShell, source: str, cell_id: str | None = None) -> Any:
    """Run a cell and return its value; raise the error it failed with."""
    outcome = ip.run_cell(source, cell_id=cell_id)
    if outcome.error_in_exec is not None:
        raise outcome.error_in_exec
    if outcome.error_before_exec is not None:
        raise outcome.error_before_exec
    return outcome.result


def baseline(sql: str) -> pd.DataFrame:
    session = Session(base_dir=ROOT, progress=False)
    session.sql(CREATE_BIDS)
    result = session.sql(sql)
    assert isinstance(result, QueryResult)
    return result.to_pandas()


def test_ddl_cell_shows_message(shell: InteractiveShell) -> None:
    value = run(shell, "%%cep\nCREATE TABLE other (a INT) WITH ('connector' = 'blackhole')")

    assert isinstance(value, StatementResult)
    assert str(value) == "created table 'other'"


def test_query_waits_for_replay(shell: InteractiveShell) -> None:
    view = run(shell, "%%cep windows\n" + WINDOWS)

    assert isinstance(view, LiveView)
    assert view.result.status == "planned"
    assert "start it with %cep replay" in view.note.value


def test_replay_max_runs_to_end(shell: InteractiveShell) -> None:
    view = run(shell, "%%cep windows -o windows_result\n" + WINDOWS)

    message = run(shell, "%cep replay --max")

    assert isinstance(message, Message)
    assert "replay ended" in message.text
    assert view.result.status == "finished"
    assert shell.user_ns["windows_result"] is view.result
    pd.testing.assert_frame_equal(view.result.to_pandas(), baseline(WINDOWS))
    assert "finished" in view.status.value


def test_step_then_add_sees_later_rows(shell: InteractiveShell) -> None:
    run(shell, "%%cep windows\n" + WINDOWS)
    run(shell, "%cep step 1000")

    view = run(shell, "%%cep ids\nSELECT bid_id FROM bids")
    run(shell, "%cep replay --max")

    assert "added at the current position (1,000 rows replayed)" in view.message
    ids = view.result.to_pandas()["bid_id"]
    full = baseline("SELECT bid_id FROM bids")["bid_id"]
    assert ids.tolist() == full.iloc[1000:].tolist()


def test_rerun_same_cell_replaces_query(shell: InteractiveShell) -> None:
    first = run(shell, "%%cep\nSELECT bid_id FROM bids WHERE price > 50", cell_id="cell-a")
    run(shell, "%cep step 500")

    second = run(shell, "%%cep\nSELECT bid_id FROM bids WHERE price > 80", cell_id="cell-a")

    assert second.name == first.name
    assert first.closed
    assert first.result.status == "stopped"
    assert "state discarded, because the plan changed" in second.message
    assert list(workbench.notebook.session().queries) == [first.name]


def test_rerun_unchanged_keeps_state(shell: InteractiveShell) -> None:
    run(shell, "%%cep windows\n" + WINDOWS)
    run(shell, "%cep step 1500")

    view = run(shell, "%%cep windows\n" + WINDOWS)
    run(shell, "%cep replay --max")

    assert "state kept, because the plan is unchanged" in view.message
    pd.testing.assert_frame_equal(view.result.to_pandas(), baseline(WINDOWS))


def test_substitutes_variables(shell: InteractiveShell) -> None:
    shell.user_ns["threshold"] = 90.5
    shell.user_ns["items"] = ["lamp", "chair"]
    sql = "SELECT bid_id, item, price FROM bids WHERE price > {threshold} AND item IN {items}"

    view = run(shell, "%%cep\n" + sql)
    run(shell, "%cep replay --max")

    rows = view.result.to_pandas()
    expected = baseline(
        "SELECT bid_id, item, price FROM bids WHERE price > 90.5 AND item IN ('lamp', 'chair')"
    )
    pd.testing.assert_frame_equal(rows, expected)


def test_query_error_displayed_without_traceback(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = shell.run_cell("%%cep\nSELECT bid_id,\n       pirce FROM bids")

    printed = capsys.readouterr()
    assert isinstance(outcome.error_in_exec, ValidationError)
    assert "line 2, column 8: column 'pirce' not found" in printed.out
    assert "         ^^^^^" in printed.out
    assert "Traceback" not in printed.out + printed.err
    assert run(shell, "%cep queries").empty


def test_failed_cell_leaves_no_query(shell: InteractiveShell) -> None:
    with pytest.raises(ValidationError):
        run(shell, "%%cep\nSELECT bid_id FROM bids; SELECT nope FROM bids")

    assert workbench.notebook.session().queries == {}


def test_unknown_variable_is_query_error(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_cell("%%cep\nSELECT bid_id FROM bids WHERE price > {missing_limit}")

    printed = capsys.readouterr().out
    assert "variable 'missing_limit' is not defined" in printed
    assert "^^^^^^^^^^^^^^^" in printed


def test_usage_error_one_line(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    outcome = shell.run_cell("%cep step zero")

    printed = capsys.readouterr()
    assert not outcome.success
    assert "UsageError: %cep step: argument rows: invalid row count 'zero'" in printed.err
    assert "Traceback" not in printed.err


def test_save_as_view_without_execute(shell: InteractiveShell) -> None:
    message = run(
        shell, "%%cep --save pricey --no-execute\nSELECT bid_id, price FROM bids WHERE price > 90"
    )
    view = run(shell, "%%cep\nSELECT COUNT(*) AS n FROM pricey")
    run(shell, "%cep replay --max")

    assert "saved the query as view 'pricey'" in message.text
    assert "not run (--no-execute)" in message.text
    assert list(workbench.notebook.session().queries) == [view.name]
    expected = baseline("SELECT COUNT(*) AS n FROM bids WHERE price > 90")
    pd.testing.assert_frame_equal(view.result.to_pandas(), expected)


def test_stop_keeps_rows_and_drop_forgets(shell: InteractiveShell) -> None:
    ids = run(shell, "%%cep ids\nSELECT bid_id FROM bids")
    run(shell, "%%cep windows\n" + WINDOWS)
    run(shell, "%cep step 700")

    run(shell, "%cep stop ids")
    run(shell, "%cep replay --max")
    run(shell, "%cep drop windows")

    assert ids.result.status == "stopped"
    assert len(ids.result.to_pandas()) == 700
    assert list(workbench.notebook.session().queries) == ["ids"]


def test_explain_and_automaton(shell: InteractiveShell) -> None:
    run(
        shell,
        "%%cep runs\n"
        "SELECT * FROM bids MATCH_RECOGNIZE (PARTITION BY item ORDER BY placed_at "
        "MEASURES COUNT(A.*) AS n ONE ROW PER MATCH PATTERN (A{3,} B) "
        "DEFINE A AS price > 50, B AS price <= 50)",
    )

    plan = run(shell, "%cep explain runs")
    drawing = run(shell, "%cep automaton runs")

    assert "MatchRecognize" in plan.text
    assert drawing._repr_svg_().startswith("<svg")


def test_dashboard_shows_charts(shell: InteractiveShell) -> None:
    run(shell, "%%cep\n" + WINDOWS)

    view = run(shell, "%cep dashboard")

    kinds = [type(part).__name__ for part in view.parts]
    assert kinds[0] == "TablePart"
    assert "WindowsTimeline" in kinds
    view.close()


def test_config_display_rows(shell: InteractiveShell) -> None:
    run(shell, "%config CepMagic.display_rows = 3")
    try:
        view = run(shell, "%%cep\nSELECT bid_id FROM bids")
        run(shell, "%cep replay --max")
        table = view.parts[0].widget.value
    finally:
        run(shell, "%config CepMagic.display_rows = 10")

    assert "latest rows (3 of 3,000)" in table


def test_realtime_needs_kernel_loop(shell: InteractiveShell) -> None:
    run(shell, "%%cep\nSELECT bid_id FROM bids")

    outcome = shell.run_cell("%cep replay --speed 10")

    assert not outcome.success


def test_commands_without_replay(shell: InteractiveShell) -> None:
    assert not shell.run_cell("%cep pause").success
    assert not shell.run_cell("%cep replay").success
    assert "no replay yet" in run(shell, "%cep status").text
    assert "%cep COMMAND" in run(shell, "%cep help").text


def test_error_display_type(shell: InteractiveShell) -> None:
    del shell
    error = ValidationError("boom")

    assert repr(ErrorDisplay(error)) == "boom"


def test_no_execute_keeps_named_query(shell: InteractiveShell) -> None:
    first = run(shell, "%%cep ids\nSELECT bid_id FROM bids")

    message = run(shell, "%%cep ids --no-execute\nSELECT price FROM bids")

    assert "not run (--no-execute)" in message.text
    assert workbench.notebook.session().queries == {"ids": first.result}


def test_unknown_view_kind_adds_nothing(shell: InteractiveShell) -> None:
    outcome = shell.run_cell("%%cep --view nope\nSELECT bid_id FROM bids")

    assert not outcome.success
    assert workbench.notebook.session().queries == {}
