"""Tables of self-describing connectors: columns and watermark from the reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench import Session
from workbench.errors import QueryError
from workbench.results import TableResult

LINES = (
    "Mar  1 10:00:00 host sshd[1]: Failed password for root from 10.0.0.1 port 22 ssh2\n"
    "Mar  1 10:00:05 host sshd[1]: Accepted password for root from 10.0.0.1 port 22 ssh2\n"
)


def describe(session: Session, name: str) -> dict[str, list[str]]:
    result = session.sql(f"DESCRIBE {name}")
    assert isinstance(result, TableResult)
    frame = result.to_pandas()
    return {column: frame[column].astype(str).tolist() for column in ("name", "watermark")}


def test_relative_path_resolves_from_base_dir(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "auth.log").write_text(LINES)
    session = Session(base_dir=tmp_path, progress=False)
    session.sql(
        "CREATE TABLE auth WITH ('connector' = 'syslog-auth', 'path' = 'logs/auth.log', "
        "'syslog.year' = '2024')"
    )
    rows = session.sql("SELECT outcome, ip FROM auth").to_pandas()
    assert rows["outcome"].tolist() == ["failed", "accepted"]
    assert rows["ip"].tolist() == ["10.0.0.1", "10.0.0.1"]


def test_default_watermark_reads_as_sql(tmp_path: Path) -> None:
    (tmp_path / "auth.log").write_text(LINES)
    session = Session(base_dir=tmp_path, progress=False)
    session.sql("CREATE TABLE auth WITH ('connector' = 'syslog', 'path' = 'auth.log')")
    described = describe(session, "auth")
    assert described["name"][0] == "ts"
    assert described["watermark"][0] == "ts - INTERVAL '5' SECOND"


def test_watermark_delay_option(tmp_path: Path) -> None:
    (tmp_path / "auth.log").write_text(LINES)
    session = Session(base_dir=tmp_path, progress=False)
    session.sql(
        "CREATE TABLE auth WITH ('connector' = 'syslog', 'path' = 'auth.log', "
        "'watermark.delay' = '1.5 s')"
    )
    assert describe(session, "auth")["watermark"][0] == "ts - INTERVAL '1.5' SECOND"


def test_watermark_clause_without_columns(tmp_path: Path) -> None:
    (tmp_path / "auth.log").write_text(LINES)
    session = Session(base_dir=tmp_path, progress=False)
    session.sql(
        "CREATE TABLE auth (WATERMARK FOR ts AS ts - INTERVAL '2' MINUTE) "
        "WITH ('connector' = 'syslog', 'path' = 'auth.log')"
    )
    assert describe(session, "auth")["watermark"][0] == "ts - INTERVAL '2' MINUTE"


def test_csv_without_columns_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n")
    session = Session(base_dir=tmp_path, progress=False)
    with pytest.raises(QueryError, match="needs a column list"):
        session.sql("CREATE TABLE a WITH ('connector' = 'csv', 'path' = 'a.csv')")


def test_bad_delay_option_points_at_option(tmp_path: Path) -> None:
    (tmp_path / "auth.log").write_text(LINES)
    session = Session(base_dir=tmp_path, progress=False)
    with pytest.raises(QueryError, match=r"watermark\.delay"):
        session.sql(
            "CREATE TABLE auth WITH ('connector' = 'syslog', 'path' = 'auth.log', "
            "'watermark.delay' = 'soon')"
        )


def test_missing_file_error_points_at_path(tmp_path: Path) -> None:
    session = Session(base_dir=tmp_path, progress=False)
    with pytest.raises(QueryError) as caught:
        session.sql("CREATE TABLE conn WITH ('connector' = 'zeek', 'path' = 'nowhere.log')")
    error = caught.value
    assert "nowhere.log" in str(error)
    assert error.position is not None
    marked = error.sql[error.position.start : error.position.end]
    assert marked == "'nowhere.log'"


def test_describe_shows_reader_comments(tmp_path: Path) -> None:
    (tmp_path / "auth.log").write_text(LINES)
    session = Session(base_dir=tmp_path, progress=False)
    session.sql("CREATE TABLE auth WITH ('connector' = 'syslog-auth', 'path' = 'auth.log')")
    result = session.sql("DESCRIBE auth")
    assert isinstance(result, TableResult)
    frame = result.to_pandas().set_index("name")
    assert frame.loc["ts", "comment"]
    assert frame.loc["ip", "comment"]
