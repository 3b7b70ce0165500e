"""``workbench fuzz FILE.sql``: the three modes, options and exit statuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.cli import main

RULES = """
CREATE TABLE events (
    ts TIMESTAMP(3), ip STRING, kind STRING, amount DOUBLE,
    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'events.csv', 'format' = 'csv');

SELECT ip, amount FROM events WHERE amount > 100;
SELECT ip, amount FROM events WHERE amount >= 100;
"""


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    path = tmp_path / "rules.sql"
    path.write_text(RULES)
    return path


def test_compare_two_rules_of_file(
    rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = tmp_path / "found.csv"

    status = main(["fuzz", str(rules), "--csv", str(found), "--values-sql"])

    printed = capsys.readouterr().out
    assert status == 1
    assert "The two rules differ on this stream of 1 row" in printed
    assert "AS events(ts, ip, kind, amount)" in printed
    assert found.read_text().splitlines()[0] == "ts,ip,kind,amount"


def test_against_file_declaring_same_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = RULES.split(";", maxsplit=1)[0] + ";\n"
    new = tmp_path / "new.sql"
    old = tmp_path / "old.sql"
    new.write_text(table + "SELECT ip, amount FROM events WHERE amount > 100;\n")
    old.write_text(table + "SELECT ip, amount FROM events WHERE amount >= 100;\n")

    status = main(["fuzz", str(new), "--against", str(old)])

    assert status == 1
    assert "The two rules differ on this stream of 1 row" in capsys.readouterr().out


def test_fire_last_rule(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["fuzz", str(rules), "--mode", "fire", "--max-examples", "100"])

    assert status == 0
    assert "The rule fires" in capsys.readouterr().out


def test_property_holds(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        ["fuzz", str(rules), "--query", "1", "--holds", "amount > 100", "--max-examples", "30"]
    )

    assert status == 0
    assert "The property held" in capsys.readouterr().out


def test_property_broken_within_range(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        ["fuzz", str(rules), "--query", "2", "--holds", "amount > 100", "--range", "amount=0:200"]
    )

    assert status == 1
    assert "output rows that break it" in capsys.readouterr().out


def test_bad_range_reported(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["fuzz", str(rules), "--range", "amount=lots"])

    assert status == 1
    assert "COLUMN=LOW:HIGH" in capsys.readouterr().err


def test_unknown_query_number_reported(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["fuzz", str(rules), "--query", "5", "--mode", "fire"])

    assert status == 1
    assert "has 2 SELECT statements" in capsys.readouterr().err
