"""The example rules in examples/ on the generated files in datasets/, and the WITH-option override.

Each rule must find what datasets/captures.py and datasets/logs.py state
about the file it reads. The override (``Session.execute_script(...,
table_options=...)`` and ``workbench run --with TABLE.KEY=VALUE``) points a
rule at another file.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from workbench import Session
from workbench.errors import ValidationError
from workbench.results import FailedStatement, QueryResult, TableResult

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
INSTALLED = Path(sys.executable).with_name("workbench")
COMMAND = [str(INSTALLED)] if INSTALLED.exists() else [sys.executable, "-m", "workbench.cli"]

#: Three bids in the layout of datasets/bids.csv, one of them for item-01.
THREE_BIDS = (
    "bid_id,placed_at,item,bidder,price,channel\n"
    "1,2024-03-01 09:00:01.000,item-01,bidder-001,10.0,web\n"
    "2,2024-03-01 09:00:02.000,item-02,bidder-002,20.0,app\n"
    "3,2024-03-01 09:00:03.000,item-02,bidder-003,30.0,app\n"
)


def queries(outcomes: list[object]) -> list[QueryResult]:
    return [outcome for outcome in outcomes if isinstance(outcome, QueryResult)]


# Overriding WITH options -----------------------------------------------------------------


def test_override_replaces_path(tmp_path: Path) -> None:
    (tmp_path / "few.csv").write_text(THREE_BIDS, encoding="utf-8")
    session = Session(base_dir=EXAMPLES, progress=False)
    outcomes = session.execute_script(
        (EXAMPLES / "bids.sql").read_text(),
        run_queries=True,
        table_options={"bids": {"path": str(tmp_path / "few.csv")}},
    )
    revenue = queries(outcomes)[0].to_pandas()

    assert not [outcome for outcome in outcomes if isinstance(outcome, FailedStatement)]
    assert sorted(revenue["item"]) == ["item-01", "item-02"]
    assert revenue["bids"].sum() == 3


def test_override_relative_path_uses_base_dir(tmp_path: Path) -> None:
    (tmp_path / "few.csv").write_text(THREE_BIDS, encoding="utf-8")
    (tmp_path / "rules").mkdir()
    session = Session(base_dir=tmp_path / "rules", progress=False)
    outcomes = session.execute_script(
        (EXAMPLES / "bids.sql").read_text(),
        run_queries=True,
        table_options={"bids": {"path": "../few.csv"}},
    )

    assert queries(outcomes)[0].to_pandas()["bids"].sum() == 3


def test_override_adds_option_and_matches_case(tmp_path: Path) -> None:
    (tmp_path / "nulls.csv").write_text(THREE_BIDS.replace("20.0", "missing"), encoding="utf-8")
    script = (
        "CREATE TABLE Bids (item STRING, price DOUBLE) WITH "
        "('connector' = 'filesystem', 'path' = 'absent.csv', 'format' = 'csv');\n"
        "SELECT COUNT(*) AS n, COUNT(price) AS priced FROM Bids;\n"
        "SHOW CREATE TABLE Bids;\n"
    )
    session = Session(base_dir=tmp_path, progress=False)
    outcomes = session.execute_script(
        script,
        run_queries=True,
        table_options={"bids": {"path": "nulls.csv", "csv.null-literal": "missing"}},
    )
    (count,) = queries(outcomes)
    shown = outcomes[-1]

    assert count.to_pandas().to_dict("records") == [{"n": 3, "priced": 2}]
    assert len(count.rejected_rows()) == 0
    assert isinstance(shown, TableResult)
    assert shown.text is not None
    assert "'csv.null-literal' = 'missing'" in shown.text


def test_override_unknown_table_raises(tmp_path: Path) -> None:
    session = Session(base_dir=EXAMPLES, progress=False)
    with pytest.raises(ValidationError) as raised:
        session.execute_script(
            (EXAMPLES / "bids.sql").read_text(), table_options={"bid": {"path": "x.csv"}}
        )

    assert "table 'bid'" in str(raised.value)
    assert "the script creates no such table" in str(raised.value)
    assert "did you mean 'bids'?" in str(raised.value)
    # Nothing ran: the script's table was not created.
    assert session.catalog.lookup("bids") is None


def test_override_needs_table_the_script_creates() -> None:
    import pandas as pd

    session = Session(progress=False)
    session.from_pandas("registered", pd.DataFrame({"x": [1]}))
    with pytest.raises(ValidationError) as raised:
        session.execute_script(
            "SELECT x FROM registered;", table_options={"registered": {"path": "y.csv"}}
        )

    assert "the script creates no such table" in str(raised.value)
    assert "tables the script creates: none" in str(raised.value)


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def command_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Run ``workbench run examples/bids.sql`` with --with variants, all at once."""
    folder = tmp_path_factory.mktemp("override")
    (folder / "few.csv").write_text(THREE_BIDS, encoding="utf-8")
    script = str(EXAMPLES / "bids.sql")
    variants = {
        "relative": ["--with", "bids.path=few.csv"],
        "unknown-table": ["--with", "auctions.path=few.csv"],
        "malformed": ["--with", "bids=few.csv"],
    }
    running = {
        name: subprocess.Popen(
            [*COMMAND, "run", script, "--max-rows", "0", "--no-progress", *arguments],
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, arguments in variants.items()
    }
    finished = {}
    for name, process in running.items():
        stdout, stderr = process.communicate(timeout=120)
        finished[name] = Outcome(process.returncode, stdout, stderr)
    return finished


def test_command_with_reads_other_file(command_runs: dict[str, Outcome]) -> None:
    done = command_runs["relative"]

    assert done.returncode == 0, done.stderr
    # The revenue query sees the three bids of few.csv in the current directory.
    assert done.stdout.splitlines()[0] == "-- query-1: 2 rows, 0 late, 0 rejected"


def test_command_with_unknown_table(command_runs: dict[str, Outcome]) -> None:
    done = command_runs["unknown-table"]

    assert done.returncode == 1
    assert done.stdout == ""
    assert "cannot override options of table 'auctions'" in done.stderr
    assert "tables the script creates: 'bids'" in done.stderr


def test_command_with_malformed_item(command_runs: dict[str, Outcome]) -> None:
    done = command_runs["malformed"]

    assert done.returncode == 2
    assert "invalid --with 'bids=few.csv': use TABLE.KEY=VALUE" in done.stderr
