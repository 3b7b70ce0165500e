"""The magics in a real IPython kernel, driven by nbclient as a notebook front end would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]

CREATE_BIDS = """%%cep
CREATE TABLE bids (
    bid_id BIGINT, placed_at TIMESTAMP(3), item STRING, bidder STRING, price DOUBLE,
    channel STRING,
    WATERMARK FOR placed_at AS placed_at - INTERVAL '30' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'datasets/bids.csv', 'format' = 'csv')"""
WINDOWS = """SELECT item, window_start, COUNT(*) AS bids, ROUND(SUM(price), 2) AS revenue
FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(placed_at), INTERVAL '10' MINUTES))
GROUP BY item, window_start, window_end"""
BASELINE = f"""
import json
import pandas as pd
from workbench import Session

def baseline(sql):
    alone = Session(base_dir={str(ROOT)!r}, progress=False)
    alone.sql('''{CREATE_BIDS.removeprefix("%%cep")}''')
    return alone.sql(sql).to_pandas()

def same(left, right):
    try:
        pd.testing.assert_frame_equal(left.reset_index(drop=True), right.reset_index(drop=True))
    except AssertionError as error:
        return str(error)
    return True

full_ids = baseline("SELECT bid_id, price FROM bids")
"""


def cell(source: str, *tags: str) -> Any:
    made = nbformat.v4.new_code_cell(source)
    if tags:
        made.metadata["tags"] = list(tags)
    return made


def execute(cells: list[Any]) -> list[Any]:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = cells
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT)}},
    )
    client.execute()
    return notebook.cells


def printed(executed: Any) -> str:
    return "".join(
        output.get("text", "") for output in executed.outputs if output.output_type == "stream"
    )


def checks(executed: Any) -> dict[str, Any]:
    return json.loads(printed(executed).strip().splitlines()[-1])


def setup_cells() -> list[Any]:
    return [
        cell(
            "%load_ext workbench\n"
            "import workbench.notebook\n"
            "from workbench import Session\n"
            f"workbench.notebook.use_session(Session(base_dir={str(ROOT)!r}, progress=False))"
        ),
        cell(BASELINE),
        cell(CREATE_BIDS),
    ]


@pytest.fixture(scope="module")
def dynamic_run() -> list[Any]:
    return execute(
        [
            *setup_cells(),
            cell("%%cep windows\n" + WINDOWS),
            cell("%%cep ids\nSELECT bid_id, price FROM bids"),
            cell("%%cep pricey\nSELECT bid_id, price FROM bids WHERE price > 50"),
            cell("%cep step 800"),
            cell("%%cep cheap\nSELECT bid_id, price FROM bids WHERE price < 20"),
            cell("%cep step 700"),
            cell("%%cep pricey\nSELECT bid_id, price FROM bids WHERE price > 80"),
            cell("%cep step 500"),
            cell("%cep drop ids"),
            cell("%%cep\nSELECT bid_id,\n       pirce FROM bids", "raises-exception"),
            cell("%cep replay --max"),
            cell(
                "queries = workbench.notebook.session().queries\n"
                "tail_800 = full_ids.iloc[800:]\n"
                "tail_1500 = full_ids.iloc[1500:]\n"
                "print(json.dumps({\n"
                "    'names': list(queries),\n"
                "    'windows': same(queries['windows'].to_pandas(), baseline('''"
                + WINDOWS
                + "''')),\n"
                "    'cheap': same(queries['cheap'].to_pandas(), tail_800[tail_800.price < 20]),\n"
                "    'pricey': same(queries['pricey'].to_pandas(), tail_1500[tail_1500.price > 80]),\n"
                "    'statuses': {name: q.status for name, q in queries.items()},\n"
                "}))"
            ),
        ]
    )


def test_other_queries_unchanged(dynamic_run: list[Any]) -> None:
    result = checks(dynamic_run[-1])

    assert result["windows"] is True


def test_added_query_from_position(dynamic_run: list[Any]) -> None:
    result = checks(dynamic_run[-1])

    assert result["cheap"] is True


def test_replaced_query_from_position(dynamic_run: list[Any]) -> None:
    result = checks(dynamic_run[-1])

    assert result["pricey"] is True


def test_dropped_query_gone(dynamic_run: list[Any]) -> None:
    result = checks(dynamic_run[-1])

    assert result["names"] == ["windows", "pricey", "cheap"]
    assert set(result["statuses"].values()) == {"finished"}


def test_live_view_is_widget(dynamic_run: list[Any]) -> None:
    outputs = dynamic_run[3].outputs

    assert outputs[0]["output_type"] == "execute_result"
    assert "application/vnd.jupyter.widget-view+json" in outputs[0]["data"]
    assert "windows: planned" in outputs[0]["data"]["text/plain"]


def test_mid_replay_messages(dynamic_run: list[Any]) -> None:
    added = dynamic_run[7].outputs[0]["data"]["text/plain"]
    replaced = dynamic_run[9].outputs[0]["data"]["text/plain"]

    assert "added at the current position (800 rows replayed)" in added
    assert "state discarded, because the plan changed" in replaced


def test_error_cell_has_caret(dynamic_run: list[Any]) -> None:
    outputs = dynamic_run[12].outputs
    html = "".join(output.get("data", {}).get("text/html", "") for output in outputs)
    text = "".join(output.get("data", {}).get("text/plain", "") for output in outputs)

    assert "line 2, column 8: column &#x27;pirce&#x27; not found" in html
    assert "^^^^^" in html
    assert (
        "line 2, column 8: column 'pirce' not found\n         pirce FROM bids\n         ^^^^^"
        in text
    )
    assert [output["output_type"] for output in outputs] == ["display_data"]
    assert "Traceback" not in json.dumps(outputs)


def test_cell_after_error_runs(dynamic_run: list[Any]) -> None:
    text = dynamic_run[13].outputs[0]["data"]["text/plain"]

    assert "replay ended" in text


def test_realtime_replay_leaves_kernel_free() -> None:
    cells = execute(
        [
            *setup_cells(),
            cell("%config CepMagic.refresh_rate = 4"),
            cell("%%cep windows\n" + WINDOWS),
            cell("%cep replay --speed 600"),
            cell("import asyncio\nawait asyncio.sleep(1.5)"),
            cell(
                "%cep pause\n"
                "controller = workbench.notebook.controller()\n"
                "paused = controller.replay.status()\n"
                "view = controller.views['windows'][-1]\n"
                "shown = view.status.value"
            ),
            cell("await asyncio.sleep(0.5)"),
            cell(
                "still = controller.replay.status()\n"
                "refreshes = controller.pacer.refreshes\n"
                "%cep resume\n"
            ),
            cell("await asyncio.sleep(0.5)"),
            cell(
                "resumed = controller.replay.status()\n"
                "%cep replay --max\n"
                "print(json.dumps({\n"
                "    'paused_state': paused.state,\n"
                "    'paused_rows': paused.rows['bids'],\n"
                "    'still_rows': still.rows['bids'],\n"
                "    'resumed_rows': resumed.rows['bids'],\n"
                "    'refreshes': refreshes,\n"
                "    'shown': shown,\n"
                "    'windows': same(workbench.notebook.session().queries['windows'].to_pandas(),"
                " baseline('''" + WINDOWS + "''')),\n"
                "}))"
            ),
        ]
    )
    result = checks(cells[-1])

    assert result["paused_state"] == "paused"
    assert 0 < result["paused_rows"] < 3000
    assert result["still_rows"] == result["paused_rows"]
    assert result["resumed_rows"] > result["paused_rows"]
    assert "windows: running" in result["shown"]
    # About 2 s of replay at 4 refreshes a second, plus one per command.
    assert result["refreshes"] <= 16
    assert result["windows"] is True
