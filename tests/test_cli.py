"""The installed ``workbench`` command, run in subprocesses over scripts in temporary folders.

Starting the command takes most of a second (it imports pandas, pyarrow and the
engine), so the module starts every scenario at once and each test reads the
output of its own scenario.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

INSTALLED = Path(sys.executable).with_name("workbench")
COMMAND = [str(INSTALLED)] if INSTALLED.exists() else [sys.executable, "-m", "workbench.cli"]

BIDS_CSV = (
    "ts,item,price\n"
    "2024-01-01 00:00:01,a,1.5\n"
    "2024-01-01 00:00:03,b,2.0\n"
    "2024-01-01 00:00:12,a,3.0\n"
)
LATE_CSV = BIDS_CSV + "2024-01-01 00:00:02,late,9.0\nbroken line\n"
TABLE = """CREATE TABLE bids (ts TIMESTAMP(3), item STRING, price DOUBLE,
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
  WITH ('connector' = 'filesystem', 'path' = 'bids.csv', 'format' = 'csv');
"""
SCRIPT = (
    TABLE
    + """
SELECT item, price FROM bids WHERE price > 1.6;

SELECT item, COUNT(*) AS n FROM bids GROUP BY item;
"""
)
WINDOWED = (
    TABLE
    + """SELECT window_start, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts),
  INTERVAL '10' SECOND)) GROUP BY window_start, window_end;
SELECT CAST(TO_TIMESTAMP_LTZ(0, 0) AS STRING) AS epoch;
"""
)
MISTAKE = """CREATE TABLE bids (ts TIMESTAMP(3), item STRING, price DOUBLE)
  WITH ('connector' = 'filesystem', 'path' = 'bids.csv', 'format' = 'csv');

SELECT item, prise
FROM bids;
"""
MISSING = (
    SCRIPT + "CREATE TABLE missing (item STRING) "
    "WITH ('connector' = 'filesystem', 'path' = 'nope.csv', 'format' = 'csv');\n"
    "SELECT item FROM missing;\n"
)


@dataclass(frozen=True)
class Scenario:
    arguments: tuple[str, ...]
    script: str = SCRIPT
    data: str = BIDS_CSV


SCENARIOS = {
    "help": Scenario(("--help",)),
    "run": Scenario(("run", "q.sql", "--output", "result.csv")),
    "options": Scenario(
        (
            "run",
            "q.sql",
            "--output",
            "out/result.parquet",
            "--set",
            "table.local-time-zone=Europe/Berlin",
            "--speed",
            "1000",
        ),
        script=WINDOWED,
        data=LATE_CSV,
    ),
    "mistake": Scenario(("run", "q.sql"), script=MISTAKE),
    "failed-query": Scenario(("run", "q.sql"), script=MISSING),
    "unreadable": Scenario(("run", "absent.sql")),
    "explain": Scenario(("explain", "q.sql")),
}


@dataclass(frozen=True)
class Outcome:
    folder: Path
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Run every scenario at once, each in its own folder, and wait for all of them."""
    running = {}
    for name, scenario in SCENARIOS.items():
        folder = tmp_path_factory.mktemp(name)
        (folder / "bids.csv").write_text(scenario.data, encoding="utf-8")
        (folder / "q.sql").write_text(scenario.script, encoding="utf-8")
        process = subprocess.Popen(
            [*COMMAND, *scenario.arguments],
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        running[name] = (folder, process)
    finished = {}
    for name, (folder, process) in running.items():
        stdout, stderr = process.communicate(timeout=120)
        finished[name] = Outcome(folder, process.returncode, stdout, stderr)
    return finished


def test_help(outcomes: dict[str, Outcome]) -> None:
    done = outcomes["help"]

    assert done.returncode == 0
    assert "run" in done.stdout
    assert "explain" in done.stdout


def test_run_prints_each_query(outcomes: dict[str, Outcome]) -> None:
    done = outcomes["run"]
    lines = done.stdout.splitlines()

    assert done.returncode == 0
    assert lines[0] == "-- query-1: 2 rows, 0 late, 0 rejected"
    assert lines[1].split() == ["item", "price"]
    assert lines[2].split() == ["b", "2.0"]
    assert lines[3].split() == ["a", "3.0"]
    assert lines[5] == "-- query-2: 2 rows, 0 late, 0 rejected"
    assert lines[6].split() == ["item", "n"]
    assert sorted(line.split() for line in lines[7:9]) == [["a", "2"], ["b", "1"]]
    assert done.stderr == ""


def test_run_counts_late_and_rejected(outcomes: dict[str, Outcome]) -> None:
    done = outcomes["options"]

    assert done.returncode == 0
    assert done.stdout.splitlines()[0] == "-- query-1: 2 rows, 1 late, 1 rejected"


def test_output_parquet_per_query(outcomes: dict[str, Outcome]) -> None:
    done = outcomes["options"]
    first = pd.read_parquet(done.folder / "out" / "result-query-1.parquet")
    second = pd.read_parquet(done.folder / "out" / "result-query-2.parquet")

    assert first["n"].tolist() == [2, 1]
    assert first["window_start"].tolist() == [
        pd.Timestamp("2024-01-01 00:00:00"),
        pd.Timestamp("2024-01-01 00:00:10"),
    ]
    assert second.columns.tolist() == ["epoch"]


def test_set_changes_setting(outcomes: dict[str, Outcome]) -> None:
    done = outcomes["options"]
    written = pd.read_parquet(done.folder / "out" / "result-query-2.parquet")

    # The epoch in Europe/Berlin: one hour after midnight UTC.
    assert written["epoch"].tolist() == ["1970-01-01 01:00:00.000"]
    assert "1970-01-01 01:00:00.000" in done.stdout


def test_speed_factor_accepted(outcomes: dict[str, Outcome]) -> None:
    done = outcomes["options"]

    assert done.returncode == 0
    assert "-- wrote out/result-query-1.parquet" in done.stdout


def test_output_csv_per_query(outcomes: dict[str, Outcome]) -> None:
    done = outcomes["run"]
    first = pd.read_csv(done.folder / "result-query-1.csv")
    second = pd.read_csv(done.folder / "result-query-2.csv")

    assert done.stdout.splitlines()[4] == "-- wrote result-query-1.csv"
    assert first.to_dict("list") == {"item": ["b", "a"], "price": [2.0, 3.0]}
    assert sorted(second["item"].tolist()) == ["a", "b"]


def test_user_mistake_reported_without_traceback(outcomes: dict[str, Outcome]) -> None:
    done = outcomes["mistake"]
    lines = done.stderr.splitlines()

    assert done.returncode == 1
    assert lines[0] == "q.sql:4:14: error: column 'prise' not found"
    assert lines[1] == "  SELECT item, prise"
    assert lines[2] == "  " + " " * 13 + "^^^^^"
    assert lines[3] == "  hint: did you mean 'price'?"
    assert "Traceback" not in done.stderr


def test_failed_query_others_printed(outcomes: dict[str, Outcome]) -> None:
    done = outcomes["failed-query"]

    assert done.returncode == 1
    assert "-- query-1: 2 rows, 0 late, 0 rejected" in done.stdout
    assert "-- query-3 failed" in done.stderr
    assert "q.sql: error: file not found: 'nope.csv'" in done.stderr
    assert "Traceback" not in done.stderr


def test_unreadable_file(outcomes: dict[str, Outcome]) -> None:
    done = outcomes["unreadable"]

    assert done.returncode == 1
    assert done.stderr.startswith("workbench: error: cannot read absent.sql")
    assert "Traceback" not in done.stderr


def test_explain_prints_plans(outcomes: dict[str, Outcome]) -> None:
    done = outcomes["explain"]
    lines = done.stdout.splitlines()

    assert done.returncode == 0
    assert lines[0] == "-- line 5"
    assert lines[1].startswith("Calc(select=[item, price])")
    assert lines[-1].strip().startswith("+- Scan(table=[bids]")
    assert "-- line 7" in lines
    assert any("GroupAggregate(groupBy=[item]" in line for line in lines)
