"""Event-time temporal joins against a versioned table: versions, padding, lateness, state."""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd
import pytest

from tests.support.streams import records
from workbench import Session
from workbench.errors import UnsupportedError, ValidationError
from workbench.runtime.temporal_join import TemporalJoinOperator

RATES = (
    "ts,currency,rate\n"
    "2024-01-01 09:00:00,EUR,1.10\n"
    "2024-01-01 09:00:00,GBP,1.30\n"
    "2024-01-01 10:00:00,EUR,1.12\n"
    "2024-01-01 11:00:00,EUR,1.15\n"
)
ORDERS = (
    "ts,oid,currency,amount\n"
    "2024-01-01 08:30:00,1,EUR,10\n"
    "2024-01-01 09:30:00,2,EUR,20\n"
    "2024-01-01 10:00:00,3,EUR,30\n"
    "2024-01-01 10:30:00,4,GBP,40\n"
    "2024-01-01 11:30:00,5,USD,50\n"
)
JOIN = (
    "SELECT o.oid, r.rate FROM orders AS o {kind} JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r "
    "ON o.currency = r.currency"
)


def _session(folder: Path, batch_rows: int = 1, rates: str = RATES) -> Session:
    (folder / "rates.csv").write_text(rates)
    (folder / "orders.csv").write_text(ORDERS)
    session = Session(progress=False, settings={"workbench.replay.batch-rows": str(batch_rows)})
    session.sql(
        "CREATE TABLE rates (ts TIMESTAMP(3), currency STRING, rate DOUBLE, "
        "WATERMARK FOR ts AS ts, PRIMARY KEY (currency) NOT ENFORCED) WITH ("
        f"'connector' = 'filesystem', 'path' = '{folder / 'rates.csv'}', 'format' = 'csv')"
    )
    session.sql(
        "CREATE TABLE orders (ts TIMESTAMP(3), oid BIGINT, currency STRING, amount DOUBLE, "
        "WATERMARK FOR ts AS ts) WITH ("
        f"'connector' = 'filesystem', 'path' = '{folder / 'orders.csv'}', 'format' = 'csv')"
    )
    return session


@pytest.mark.parametrize("batch_rows", [1, 2, 1000])
def test_inner_temporal_join_picks_version(tmp_path: Path, batch_rows: int) -> None:
    result = _session(tmp_path, batch_rows).sql(JOIN.format(kind=""))

    # Order 3 at 10:00 joins the EUR version that starts at 10:00.
    assert records(result.to_pandas()) == [(2, 1.1), (3, 1.12), (4, 1.3)]  # type: ignore[union-attr]
    assert len(result.late_rows()) == 0  # type: ignore[union-attr]


def test_left_temporal_join_pads(tmp_path: Path) -> None:
    result = _session(tmp_path).sql(JOIN.format(kind="LEFT"))

    assert records(result.to_pandas()) == [  # type: ignore[union-attr]
        (1, None),
        (2, 1.1),
        (3, 1.12),
        (4, 1.3),
        (5, None),
    ]
    assert (
        "TemporalJoin(joinType=[LeftOuterJoin], leftTime=[ts], versionTime=[ts], "
        "equiKeys=[currency = currency])" in result.explain()  # type: ignore[union-attr]
    )


def test_equals_asof_reference(tmp_path: Path) -> None:
    result = _session(tmp_path).sql(JOIN.format(kind="LEFT"))
    orders = pd.read_csv(tmp_path / "orders.csv", parse_dates=["ts"]).sort_values("ts")
    rates = pd.read_csv(tmp_path / "rates.csv", parse_dates=["ts"]).sort_values("ts")
    expected = pd.merge_asof(orders, rates, on="ts", by="currency", direction="backward")

    assert records(result.to_pandas()) == records(expected[["oid", "rate"]])  # type: ignore[union-attr]


def test_late_version_goes_to_side_output(tmp_path: Path) -> None:
    late_rates = RATES + "2024-01-01 09:45:00,GBP,1.40\n"
    result = _session(tmp_path, rates=late_rates).sql(JOIN.format(kind=""))

    frame = result.to_pandas()  # type: ignore[union-attr]
    late = result.late_rows()  # type: ignore[union-attr]
    assert records(frame) == [(2, 1.1), (3, 1.12), (4, 1.3)]
    assert late["rate"].tolist() == [1.4]


def test_versions_before_watermark_dropped(tmp_path: Path) -> None:
    result = _session(tmp_path).sql(JOIN.format(kind=""))
    result.to_pandas()  # type: ignore[union-attr]
    join = next(
        op
        for op in result.pipeline.operators  # type: ignore[union-attr]
        if isinstance(op, TemporalJoinOperator)
    )

    assert join.state_rows == 0
    restored = pickle.loads(pickle.dumps(join.snapshot()))
    assert restored["arrived"] == 4


def test_temporal_join_errors(tmp_path: Path) -> None:
    session = _session(tmp_path)

    with pytest.raises(UnsupportedError, match="not a versioned table"):
        session.sql(
            "SELECT * FROM rates AS r JOIN orders FOR SYSTEM_TIME AS OF r.ts AS o "
            "ON r.currency = o.currency"
        )
    with pytest.raises(ValidationError, match="must equate the primary key"):
        session.sql(
            "SELECT * FROM orders AS o JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r "
            "ON o.amount = r.rate"
        )
    with pytest.raises(UnsupportedError, match="INNER or LEFT"):
        session.sql(
            "SELECT * FROM orders AS o FULL JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r "
            "ON o.currency = r.currency"
        )


def test_window_over_temporal_join(tmp_path: Path) -> None:
    result = _session(tmp_path).sql(
        "SELECT window_start, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE ("
        "SELECT o.ts, r.rate FROM orders AS o JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r "
        "ON o.currency = r.currency), DESCRIPTOR(ts), INTERVAL '1' HOUR)) "
        "GROUP BY window_start, window_end"
    )

    frame = result.to_pandas()  # type: ignore[union-attr]
    assert records(frame) == [
        (pd.Timestamp("2024-01-01 09:00"), 1),
        (pd.Timestamp("2024-01-01 10:00"), 2),
    ]
    assert len(result.late_rows()) == 0  # type: ignore[union-attr]
