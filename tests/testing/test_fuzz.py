"""Session.fuzz: each mode finds its known result within a bounded number of streams."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from workbench import Session
from workbench.errors import ValidationError
from workbench.testing.fuzz import FuzzResult

EVENTS_DDL = """
CREATE TABLE events (
    ts TIMESTAMP(3),
    ip STRING,
    kind STRING,
    amount DOUBLE,
    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'events.csv', 'format' = 'csv')
"""

A_B_C = """
SELECT * FROM events MATCH_RECOGNIZE (
    PARTITION BY ip ORDER BY ts
    MEASURES FIRST(A.ts) AS started, COUNT(B.*) AS middle
    ONE ROW PER MATCH
    PATTERN (A B+ C)
    DEFINE A AS kind = 'open', B AS kind = 'step', C AS kind = 'close'
)
"""


@pytest.fixture
def session(tmp_path: Path) -> Session:
    session = Session(base_dir=tmp_path, progress=False)
    session.sql(EVENTS_DDL)
    return session


@pytest.fixture(scope="module")
def pattern_found() -> FuzzResult:
    """The stream found for the A B+ C rule, shared by the tests of its forms."""
    session = Session(progress=False)
    session.sql(EVENTS_DDL)
    return session.fuzz(A_B_C, max_examples=300)


def test_fire_smallest_pattern_stream(pattern_found: FuzzResult) -> None:
    result = pattern_found

    assert result.found
    assert result.passed
    stream = result.stream["events"]
    assert len(stream) == 3
    assert stream["kind"].tolist() == ["open", "step", "close"]
    assert stream["ip"].nunique() == 1
    assert result.examples <= 1_000
    output = result.outputs[0]
    assert output is not None
    assert len(output) == 1


def test_fire_reaches_rule_literal_quickly(session: Session) -> None:
    result = session.fuzz("SELECT ip FROM events WHERE kind = 'login'", max_examples=50)

    assert result.found
    assert result.stream["events"]["kind"].tolist() == ["login"]
    assert result.examples <= 50


def test_fire_reports_rule_that_never_fires(session: Session) -> None:
    result = session.fuzz("SELECT * FROM events WHERE amount > 10 AND amount < 5", max_examples=40)

    assert not result.found
    assert not result.passed
    assert result.stream == {}
    assert "No stream" in result.summary()


def test_compare_tells_strict_from_inclusive(session: Session) -> None:
    result = session.fuzz(
        "SELECT ip, amount FROM events WHERE amount > 100",
        against="SELECT ip, amount FROM events WHERE amount >= 100",
        max_examples=300,
    )

    assert result.mode == "compare"
    assert result.found
    stream = result.stream["events"]
    assert 1 <= len(stream) <= 2
    assert 100.0 in stream["amount"].tolist()
    first, second = result.outputs
    assert first is not None
    assert second is not None
    assert len(first) != len(second)


def test_compare_equal_rules_agree(session: Session) -> None:
    result = session.fuzz(
        "SELECT ip FROM events WHERE amount > 100",
        against="SELECT ip FROM events WHERE NOT amount <= 100",
        max_examples=60,
    )

    assert not result.found
    assert result.passed


def test_true_property_passes(session: Session) -> None:
    result = session.fuzz(
        "SELECT ip, amount FROM events WHERE amount > 100", holds="amount > 100", max_examples=80
    )

    assert result.mode == "property"
    assert not result.found
    assert result.passed
    assert "held" in result.summary()


def test_false_property_shrinks_counterexample(session: Session) -> None:
    result = session.fuzz(
        "SELECT ip, amount FROM events WHERE amount > 100", holds="amount > 150", max_examples=300
    )

    assert result.found
    assert not result.passed
    assert len(result.stream["events"]) == 1
    assert result.violations is not None
    assert len(result.violations) == 1
    assert 100 < result.violations["amount"].iloc[0] <= 150


def test_never_fires_given_small_amounts(session: Session) -> None:
    rule = "SELECT ip FROM events WHERE amount >= 100"

    held = session.fuzz(rule, given="amount < 100", holds="FALSE", max_examples=60)
    broken = session.fuzz(rule, given="amount < 101", holds="FALSE", max_examples=300)

    assert held.passed
    assert broken.found
    assert broken.stream["events"]["amount"].tolist() == [100.0]


def test_python_property_reads_inputs(session: Session) -> None:
    def one_output_per_input(output: pd.DataFrame, inputs: dict[str, pd.DataFrame]) -> bool:
        return len(output) <= len(inputs["events"]) // 2

    result = session.fuzz(
        "SELECT ip FROM events WHERE kind = 'login'", holds=one_output_per_input, max_examples=200
    )

    assert result.found
    assert len(result.stream["events"]) == 1


def test_at_most_once_per_ip_per_window(session: Session) -> None:
    rule = """
        SELECT ip, window_start FROM TABLE(
            TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' MINUTE))
        WHERE kind = 'fail'
        GROUP BY ip, window_start, window_end
        HAVING COUNT(*) >= 2
    """

    def once_per_ip_per_10_minutes(output: pd.DataFrame) -> bool:
        gaps = output.sort_values("window_start").groupby("ip")["window_start"].diff().dropna()
        return bool((gaps >= pd.Timedelta(minutes=10)).all())

    result = session.fuzz(rule, holds=once_per_ip_per_10_minutes, max_examples=50)

    assert result.passed


def test_late_rows_beyond_watermark_delay(session: Session) -> None:
    rule = """
        SELECT ip, COUNT(*) AS n FROM TABLE(
            TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND))
        GROUP BY ip, window_start, window_end
    """

    def no_late_rows(output: pd.DataFrame, inputs: dict[str, pd.DataFrame]) -> bool:
        return int(output["n"].sum()) == len(inputs["events"])

    within = session.fuzz(rule, holds=no_late_rows, max_examples=40)
    beyond = session.fuzz(rule, holds=no_late_rows, out_of_order="30 s", max_examples=300)

    assert within.passed
    assert beyond.found
    assert beyond.runs[0].late >= 1


def test_search_is_deterministic(session: Session) -> None:
    rule = "SELECT ip FROM events WHERE kind = 'login' AND amount > 10"
    first = session.fuzz(rule, max_examples=60)
    second = session.fuzz(rule, max_examples=60)

    pd.testing.assert_frame_equal(first.stream["events"], second.stream["events"])
    assert first.examples == second.examples


def test_seed_option_runs_random_search(session: Session) -> None:
    result = session.fuzz("SELECT ip FROM events WHERE kind = 'login'", seed=7, max_examples=100)

    assert result.found


def test_rule_by_query_and_view_name(session: Session) -> None:
    session.sql("CREATE VIEW logins AS SELECT ip, ts FROM events WHERE kind = 'login'")
    session.sql("SELECT ip FROM events WHERE amount > 50", name="big")

    by_view = session.fuzz("logins", max_examples=100)
    by_query = session.fuzz("big", max_examples=100)

    assert by_view.stream["events"]["kind"].tolist() == ["login"]
    assert by_query.stream["events"]["amount"].iloc[0] > 50


def test_user_session_left_unchanged(session: Session) -> None:
    before = dict(session.catalog.entries)

    session.fuzz("SELECT ip FROM events WHERE kind = 'login'", max_examples=30)

    assert session.catalog.entries == before
    assert session.queries == {}


def test_options_shape_values(session: Session) -> None:
    result = session.fuzz(
        "SELECT ip, amount FROM events WHERE amount > 0",
        holds="amount <= 20",
        ranges={"amount": (1, 20)},
        values={"ip": ["10.0.0.1", "10.0.0.2"]},
        nulls=False,
        max_examples=100,
    )

    assert result.passed


def test_key_cardinality_option(session: Session) -> None:
    rule = "SELECT ip FROM events WHERE kind = 'login'"

    result = session.fuzz(
        rule, holds=lambda out: out["ip"].nunique() < 2, keys={"ip": 1}, max_examples=40
    )

    assert result.passed


def test_join_rule_gets_both_tables(session: Session) -> None:
    session.sql("""
        CREATE TABLE alerts (
            at TIMESTAMP(3), ip STRING, level INT,
            WATERMARK FOR at AS at - INTERVAL '5' SECOND
        ) WITH ('connector' = 'filesystem', 'path' = 'alerts.csv', 'format' = 'csv')
    """)
    rule = """
        SELECT e.ip, e.kind, a.level FROM events e JOIN alerts a
        ON e.ip = a.ip AND a.at BETWEEN e.ts AND e.ts + INTERVAL '1' MINUTE
        WHERE a.level > 3
    """

    result = session.fuzz(rule, max_examples=300)

    assert result.found
    assert len(result.stream["events"]) == 1
    assert len(result.stream["alerts"]) == 1
    assert result.stream["alerts"]["level"].iloc[0] > 3


def test_values_sql_reproduces_stream(session: Session, pattern_found: FuzzResult) -> None:
    result = pattern_found

    values = session.sql(result.values_sql())

    assert values is not None
    frame = values.to_pandas()  # type: ignore[union-attr]
    pd.testing.assert_frame_equal(
        frame.astype(object), result.stream["events"].astype(object), check_dtype=False
    )


def test_csv_replays_through_table_ddl(
    session: Session, tmp_path: Path, pattern_found: FuzzResult
) -> None:
    result = pattern_found
    (tmp_path / "events.csv").write_text(result.to_csv())

    replay = session.sql(A_B_C)

    assert replay is not None
    output = result.outputs[0]
    assert output is not None
    pd.testing.assert_frame_equal(replay.to_pandas(), output)  # type: ignore[union-attr]


def test_text_and_html_show_stream_and_query(pattern_found: FuzzResult) -> None:
    result = pattern_found

    text = str(result)
    page = result._repr_html_()

    assert "PATTERN (A B+ C)" in text
    assert "open" in text
    assert "<table" in page
    assert "PATTERN (A B+ C)" in page


def test_invalid_options_rejected(session: Session) -> None:
    with pytest.raises(ValidationError, match="no input table has"):
        session.fuzz(A_B_C, ranges={"price": (0, 1)})
    with pytest.raises(ValidationError, match="invalid fuzz mode"):
        session.fuzz(A_B_C, mode="explode")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="needs holds"):
        session.fuzz(A_B_C, mode="property")
    with pytest.raises(ValidationError, match="invalid max_rows"):
        session.fuzz(A_B_C, max_rows=0)


def test_invalid_property_reported_before_search(session: Session) -> None:
    with pytest.raises(ValidationError, match="invalid property"):
        session.fuzz("SELECT ip FROM events", holds="no_such_column > 1")


def test_timeline_draws_found_match(pattern_found: FuzzResult) -> None:
    chart = pattern_found.timeline()

    assert len(chart.bands.data["left"]) == 1
