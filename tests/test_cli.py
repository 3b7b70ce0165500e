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


PLANNING_MISTAKE = (
    TABLE
    + """SELECT COUNT(*) AS n FROM bids;

SELECT prise FROM bids;

SELECT item FROM bids WHERE price > 2;
"""
)
INFORMATION = (
    TABLE
    + """SHOW TABLES;
DESCRIBE bids;
SET 'pipeline.name' = 'demo';
SET;
EXPLAIN SELECT item FROM bids;
SELECT item FROM bids WHERE price > 2;
SHOW QUERIES;
"""
)
OWN_SINK = TABLE + "INSERT INTO bids SELECT * FROM bids WHERE price > 2;\n"


@dataclass(frozen=True)
class Scenario:
    arguments: tuple[str, ...]
    script: str = SCRIPT
    data: str = BIDS_CSV
    #: The script as bytes, for a file that is not UTF-8 text.
    script_bytes: bytes | None = None
    #: Folders made before the command runs.
    folders: tuple[str, ...] = ()


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
    "show-rejected": Scenario(("run", "q.sql", "--show-rejected"), script=WINDOWED, data=LATE_CSV),
    "mistake": Scenario(("run", "q.sql"), script=MISTAKE),
    "failed-query": Scenario(("run", "q.sql"), script=MISSING),
    "unreadable": Scenario(("run", "absent.sql")),
    "explain": Scenario(("explain", "q.sql")),
    "planning-mistake": Scenario(("run", "q.sql"), script=PLANNING_MISTAKE),
    "explain-mistake": Scenario(("explain", "q.sql"), script=PLANNING_MISTAKE),
    "information": Scenario(("run", "q.sql"), script=INFORMATION),
    "own-sink": Scenario(("run", "q.sql"), script=OWN_SINK),
    "speed-infinite": Scenario(("run", "q.sql", "--speed", "inf")),
    "not-utf8": Scenario(("run", "q.sql"), script_bytes=b"SELECT '\xe9t\xe9' AS word;\n"),
    "max-rows-negative": Scenario(("run", "q.sql", "--max-rows", "-1")),
    "output-directory": Scenario(("run", "q.sql", "--output", "out.csv"), folders=("out.csv",)),
    "output-suffix": Scenario(("run", "q.sql", "--output", "result.txt")),
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
        if scenario.script_bytes is not None:
            (folder / "q.sql").write_bytes(scenario.script_bytes)
        else:
            (folder / "q.sql").write_text(scenario.script, encoding="utf-8")
        for subfolder in scenario.folders:
            (folder / subfolder).mkdir()
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


def test_show_rejected_prints_lines(outcomes: dict[str, Outcome]) -> None:
    done = outcomes["show-rejected"]
    lines = done.stdout.splitlines()

    assert done.returncode == 0
    assert "-- query-1: rejected rows" in lines
    assert any("broken line" in line for line in lines)


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
    assert done.stderr.count("file not found") == 1
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


def test_planning_mistake_others_run(outcomes: dict[str, Outcome]) -> None:
    done = outcomes["planning-mistake"]
    lines = done.stdout.splitlines()

    assert done.returncode == 1
    assert lines[0] == "-- query-1: 1 rows, 0 late, 0 rejected"
    assert lines[1].split() == ["n"]
    assert lines[2].split() == ["3"]
    assert lines[3] == "-- query-2: 1 rows, 0 late, 0 rejected"
    assert lines[5].split() == ["a"]
    assert done.stderr.splitlines()[0] == "q.sql:6:8: error: column 'prise' not found"
    assert "Traceback" not in done.stderr


def test_explain_mistake_others_explained(outcomes: dict[str, Outcome]) -> None:
    done = outcomes["explain-mistake"]

    assert done.returncode == 1
    assert "-- line 4" in done.stdout
    assert "-- line 8" in done.stdout
    assert "-- line 6" not in done.stdout
    assert done.stderr.splitlines()[0] == "q.sql:6:8: error: column 'prise' not found"


def test_information_statements_printed(outcomes: dict[str, Outcome]) -> None:
    done = outcomes["information"]
    lines = done.stdout.splitlines()

    assert done.returncode == 0
    assert lines[0] == "-- SHOW TABLES"
    assert lines[1].strip() == "table name"
    assert lines[2].strip() == "bids"
    assert "-- DESCRIBE bids" in lines
    assert "-- SET" in lines
    assert any(line.split() == ["pipeline.name", "demo"] for line in lines)
    assert "-- EXPLAIN SELECT item FROM bids" in lines
    assert any(line.startswith("Calc(select=[item]") for line in lines)
    assert "-- SHOW QUERIES" in lines
    assert done.stderr == ""


def test_insert_into_own_input_rejected(outcomes: dict[str, Outcome]) -> None:
    done = outcomes["own-sink"]

    assert done.returncode == 1
    assert done.stderr.splitlines()[0].startswith(
        "q.sql:4:32: error: INSERT INTO 'bids' also reads 'bids'"
    )
    assert (done.folder / "bids.csv").read_text(encoding="utf-8") == BIDS_CSV


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("speed-infinite", "invalid value 'inf' for 'workbench.replay.speed'"),
        ("not-utf8", "workbench: error: cannot read q.sql: it is not UTF-8 text"),
        ("max-rows-negative", "workbench: error: invalid --max-rows -1: use 0 or more"),
        ("output-directory", "workbench: error: cannot write out.csv: it is a directory"),
        ("output-suffix", "workbench: error: cannot write result.txt: use a .csv, .parquet"),
    ],
)
def test_bad_input_one_line_error(outcomes: dict[str, Outcome], name: str, message: str) -> None:
    done = outcomes[name]

    assert done.returncode != 0
    assert len(done.stderr.splitlines()) == 1
    assert message in done.stderr
    assert done.stdout == ""


def test_readme_error_example_reproducible() -> None:
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    expected = readme.split("examples/bad.sql` prints:\n\n```\n", 1)[1].split("```", 1)[0]

    done = subprocess.run(
        [*COMMAND, "run", "examples/bad.sql", "--max-rows", "0"],
        check=False,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 1
    assert done.stderr == expected
