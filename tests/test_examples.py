"""The example rules in examples/ on the generated files in datasets/, and the WITH-option override.

Each rule must find what datasets/captures.py and datasets/logs.py state
about the file it reads. The override (``Session.execute_script(...,
table_options=...)`` and ``workbench run --with TABLE.KEY=VALUE``) points a
rule at another file.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
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


def run_example(
    name: str, table_options: Mapping[str, Mapping[str, str]] | None = None
) -> list[QueryResult]:
    """Run examples/NAME as ``workbench run`` does; return its queries, checked for errors."""
    session = Session(base_dir=EXAMPLES, progress=False)
    outcomes = session.execute_script(
        (EXAMPLES / name).read_text(encoding="utf-8"),
        run_queries=True,
        table_options=table_options,
    )
    failed = [outcome for outcome in outcomes if isinstance(outcome, FailedStatement)]
    assert failed == []
    results = queries(outcomes)
    for result in results:
        assert result.error is None
    return results


def rows(result: QueryResult, *columns: str) -> list[tuple[object, ...]]:
    """Return the result's rows as tuples of plain Python values, sorted."""
    frame = result.to_pandas()[list(columns)]
    values = []
    for record in frame.itertuples(index=False):
        values.append(tuple(_plain(value) for value in record))
    return sorted(values, key=_row_key)


def _row_key(row: tuple[object, ...]) -> tuple[tuple[int, object], ...]:
    """Order rows by their values, with NULLs last and values of different types apart."""
    return tuple((1, "") if value is None else (0, (type(value).__name__, value)) for value in row)


def _plain(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()  # numpy scalars
    return value


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# Generated files ---------------------------------------------------------------------------

GENERATED = (
    "portscan.pcap",
    "ssh-guess.pcap",
    "ftp-login.pcap",
    "dns-tunnel.pcapng",
    "dhcp-flood.pcap",
    "web-attack.pcap",
    "auth.log",
    "access.log",
    "conn.log",
)


def test_generator_rewrites_same_bytes(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "datasets" / "generate.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    for name in (*GENERATED, "bids.csv", "sensors.jsonl"):
        written = (tmp_path / name).read_bytes()
        committed = (ROOT / "datasets" / name).read_bytes()
        assert written == committed, f"{name} differs from the committed file"


@pytest.mark.parametrize("name", GENERATED)
def test_generated_file_is_small(name: str) -> None:
    assert (ROOT / "datasets" / name).stat().st_size < 200_000


def test_ssh_guessing_finds_root_login() -> None:
    matches, windows = run_example("ssh_guessing.sql")

    assert rows(
        matches,
        "ip",
        "first_failure",
        "accepted_at",
        "accepted_user",
        "failure_lines",
        "failed_attempts",
    ) == [("203.0.113.45", at("2024-03-04 08:20:00"), at("2024-03-04 08:22:40"), "root", 6, 7)]
    assert rows(windows, "ip", "window_start", "failed_attempts", "users") == [
        ("198.51.100.9", at("2024-03-04 08:30:00"), 10, 10),
        ("203.0.113.45", at("2024-03-04 08:20:00"), 7, 1),
    ]


def test_failed_logins_per_user() -> None:
    (matches,) = run_example("failed_logins.sql")

    assert rows(
        matches,
        "user",
        "first_failure",
        "accepted_at",
        "accepted_from",
        "failed_attempts",
        "failing_ips",
    ) == [
        ("backup", at("2024-03-04 09:30:00"), at("2024-03-04 09:35:00"), "198.51.100.34", 6, 3),
        ("root", at("2024-03-04 08:20:00"), at("2024-03-04 08:22:40"), "203.0.113.45", 7, 1),
    ]


def test_not_found_bursts_in_utc() -> None:
    windows, sessions = run_example("not_found_bursts.sql")

    assert rows(windows, "client_ip", "window_start", "window_end", "not_found", "paths") == [
        ("198.51.100.77", at("2024-03-31 01:00:00"), at("2024-03-31 01:05:00"), 30, 10)
    ]
    assert rows(sessions, "client_ip", "first_404", "not_found") == [
        ("198.51.100.77", at("2024-03-31 01:02:10"), 30)
    ]
    assert len(windows.late_rows()) == 0
    # The truncated line.
    assert len(windows.rejected_rows()) == 1


def test_port_scan_zeek_windows() -> None:
    (windows,) = run_example("port_scan_zeek.sql")
    starts = [
        at(f"2024-03-01 {clock}")
        for clock in ("09:59:40", "09:59:50", "10:00:00", "10:00:10", "10:00:20", "10:00:30")
    ]

    assert rows(
        windows, "scanner", "target", "window_start", "ports", "rejected", "unanswered"
    ) == [("10.0.0.66", "10.0.0.20", start, 200, 192, 0) for start in starts]
    assert len(windows.late_rows()) == 0
    assert len(windows.rejected_rows()) == 0


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


def test_port_scan_windows_and_session() -> None:
    windows, sessions = run_example("port_scan.sql")
    starts = [
        at(f"2024-03-01 {clock}")
        for clock in ("09:59:40", "09:59:50", "10:00:00", "10:00:10", "10:00:20", "10:00:30")
    ]

    assert rows(windows, "scanner", "target", "window_start", "ports", "syns") == [
        ("10.0.0.66", "10.0.0.20", start, 200, 200) for start in starts
    ]
    assert rows(
        sessions, "scanner", "target", "window_start", "ports", "open_ports", "closed_ports"
    ) == [("10.0.0.66", "10.0.0.20", at("2024-03-01 10:00:30"), 200, 8, 192)]
    assert len(windows.late_rows()) == 0
    assert len(windows.rejected_rows()) == 0


def test_ssh_connections_from_one_source() -> None:
    windows, bursts = run_example("ssh_connections.sql")

    assert rows(windows, "client", "server", "window_start", "connections") == [
        ("203.0.113.23", "10.0.0.22", at("2024-03-01 10:56:00"), 10),
        ("203.0.113.23", "10.0.0.22", at("2024-03-01 10:57:00"), 12),
        ("203.0.113.23", "10.0.0.22", at("2024-03-01 10:58:00"), 12),
        ("203.0.113.23", "10.0.0.22", at("2024-03-01 10:59:00"), 12),
        ("203.0.113.23", "10.0.0.22", at("2024-03-01 11:00:00"), 12),
    ]
    assert rows(bursts, "client", "first_connection", "connections") == [
        ("10.0.0.5", at("2024-03-01 11:00:02"), 1),
        ("10.0.0.6", at("2024-03-01 11:00:40"), 1),
        ("203.0.113.23", at("2024-03-01 11:00:10"), 12),
    ]


def test_ftp_bruteforce_then_login() -> None:
    per_minute, logins = run_example("ftp_bruteforce.sql")

    assert rows(per_minute, "client", "server", "window_start", "failures", "connections") == [
        ("203.0.113.7", "10.0.0.21", at("2024-03-01 12:00:00"), 12, 12)
    ]
    assert rows(logins, "client", "first_failure", "failures", "logged_in_at") == [
        ("203.0.113.7", at("2024-03-01 12:00:06.218200"), 12, at("2024-03-01 12:00:41.058200"))
    ]


def test_dns_tunnel_client() -> None:
    (alerts,) = run_example("dns_tunnel.sql")

    assert rows(
        alerts,
        "client",
        "parent",
        "window_start",
        "queries",
        "names",
        "mean_length",
        "longest",
        "interfaces",
    ) == [
        ("192.168.50.23", "tunnel.example", at("2024-03-01 13:00:00"), 90, 90, 70.8, 113, "wlan0")
    ]
    assert sorted(str(alerts.to_pandas()["qtypes"][0]).split(",")) == ["NULL", "TXT"]


def test_dhcp_flood_window_and_types() -> None:
    windows, types = run_example("dhcp_flood.sql")

    assert rows(windows, "window_start", "requests", "discovers", "informs", "client_macs") == [
        (at("2024-03-01 14:00:20"), 300, 300, 0, 300)
    ]
    assert dict(rows(types, "message_type", "messages")) == {
        "DISCOVER": 302,
        "OFFER": 22,
        "REQUEST": 2,
        "ACK": 3,
        "INFORM": 1,
    }


def test_sql_injection_answered_200() -> None:
    answered, attempts = run_example("sql_injection.sql")

    assert rows(answered, "client_ip", "client_port", "method", "uri", "status", "answered_at") == [
        (
            "198.51.100.66",
            40002,
            "GET",
            "/products?id=1%27+OR+%271%27%3D%271",
            200,
            at("2024-03-01 15:00:20.003700"),
        )
    ]
    assert rows(attempts, "client_port", "uri", "status") == [
        (40002, "/products?id=1%27+OR+%271%27%3D%271", 200),
        (40003, "/search?q=x%27+UNION+SELECT+username%2Cpassword+FROM+users--+", 403),
    ]


DETECTION_EXAMPLES = (
    "port_scan.sql",
    "port_scan_zeek.sql",
    "ssh_connections.sql",
    "ssh_guessing.sql",
    "failed_logins.sql",
    "ftp_bruteforce.sql",
    "dns_tunnel.sql",
    "dhcp_flood.sql",
    "sql_injection.sql",
    "not_found_bursts.sql",
)


@pytest.fixture(scope="module")
def example_runs() -> dict[str, Outcome]:
    """Run ``workbench run examples/NAME.sql`` from the repository root for every example."""
    running = {
        name: subprocess.Popen(
            [*COMMAND, "run", f"examples/{name}", "--no-progress"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in DETECTION_EXAMPLES
    }
    finished = {}
    for name, process in running.items():
        stdout, stderr = process.communicate(timeout=300)
        finished[name] = Outcome(process.returncode, stdout, stderr)
    return finished


@pytest.mark.parametrize("name", DETECTION_EXAMPLES)
def test_example_runs_from_command(example_runs: dict[str, Outcome], name: str) -> None:
    done = example_runs[name]
    headers = [line for line in done.stdout.splitlines() if line.startswith("-- query-")]

    assert done.returncode == 0, done.stderr
    assert headers
    # Every query of every example finds something in its generated file.
    assert all(" 0 rows" not in header for header in headers)
