"""Lookup joins against DuckDB and SQLite tables: keys, LEFT padding, the cache and errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.support.streams import records
from workbench import Session
from workbench.errors import UnsupportedError, ValidationError
from workbench.runtime.lookup_join import LookupCache, LookupJoinOperator

USERS = [(1, "ann", 1), (2, "bob", 2), (2, "bo", 3)]
CLICKS = "ts,uid\n2024-01-01 00:00:01,1\n2024-01-01 00:00:02,2\n2024-01-01 00:00:03,3\n2024-01-01 00:00:04,\n2024-01-01 00:00:05,1\n"


def _databases(folder: Path) -> dict[str, Path]:
    duck = folder / "dims.duckdb"
    connection = duckdb.connect(str(duck))
    connection.execute("CREATE TABLE users (id BIGINT, name VARCHAR, tier INTEGER)")
    connection.executemany("INSERT INTO users VALUES (?, ?, ?)", USERS)
    connection.close()
    lite = folder / "dims.sqlite"
    database = sqlite3.connect(lite)
    database.execute("CREATE TABLE users (id INTEGER, name TEXT, tier INTEGER)")
    database.executemany("INSERT INTO users VALUES (?, ?, ?)", USERS)
    database.commit()
    database.close()
    return {"duckdb": duck, "sqlite": lite}


def _session(folder: Path, connector: str, cache: str = "", batch_rows: int = 1) -> Session:
    path = _databases(folder)[connector]
    (folder / "clicks.csv").write_text(CLICKS)
    session = Session(progress=False, settings={"workbench.replay.batch-rows": str(batch_rows)})
    session.sql(
        f"CREATE TABLE clicks (ts TIMESTAMP(3), uid BIGINT, pt AS PROCTIME(), "
        f"WATERMARK FOR ts AS ts) WITH ('connector' = 'filesystem', "
        f"'path' = '{folder / 'clicks.csv'}', 'format' = 'csv')"
    )
    session.sql(
        f"CREATE TABLE users (id BIGINT, name STRING, tier INT) WITH ("
        f"'connector' = '{connector}', 'path' = '{path}', 'table-name' = 'users'{cache})"
    )
    return session


LEFT_LOOKUP = (
    "SELECT c.uid, u.name, u.tier FROM clicks AS c "
    "LEFT JOIN users FOR SYSTEM_TIME AS OF c.pt AS u ON c.uid = u.id"
)


@pytest.mark.parametrize("connector", ["duckdb", "sqlite"])
def test_left_lookup_join(tmp_path: Path, connector: str) -> None:
    result = _session(tmp_path, connector).sql(LEFT_LOOKUP)

    assert records(result.to_pandas()) == [  # type: ignore[union-attr]
        (1, "ann", 1),
        (2, "bob", 2),
        (2, "bo", 3),
        (3, None, None),
        (None, None, None),
        (1, "ann", 1),
    ]


@pytest.mark.parametrize("connector", ["duckdb", "sqlite"])
def test_inner_lookup_with_condition(tmp_path: Path, connector: str) -> None:
    result = _session(tmp_path, connector, batch_rows=100).sql(
        "SELECT c.uid, u.name FROM clicks AS c JOIN users FOR SYSTEM_TIME AS OF c.pt AS u "
        "ON c.uid = u.id AND u.tier < 3"
    )

    assert records(result.to_pandas()) == [(1, "ann"), (2, "bob"), (1, "ann")]  # type: ignore[union-attr]


def test_cache_counts_hits(tmp_path: Path) -> None:
    cache = (
        ", 'lookup.cache' = 'PARTIAL', 'lookup.partial-cache.max-rows' = '10', "
        "'lookup.partial-cache.expire-after-write' = '1 h'"
    )
    result = _session(tmp_path, "duckdb", cache).sql(LEFT_LOOKUP)
    result.to_pandas()  # type: ignore[union-attr]
    join = next(
        op
        for op in result.pipeline.operators  # type: ignore[union-attr]
        if isinstance(op, LookupJoinOperator)
    )

    # One row per batch: keys 1, 2 and 3 miss once each; the second click of 1 hits.
    assert join.cache_misses == 3
    assert join.cache_hits == 1
    assert "cache=[PARTIAL(maxRows=10, expireAfterWrite=1 h)]" in result.explain()  # type: ignore[union-attr]


def test_no_cache_reads_every_batch(tmp_path: Path) -> None:
    result = _session(tmp_path, "sqlite").sql(LEFT_LOOKUP)
    result.to_pandas()  # type: ignore[union-attr]
    join = next(
        op
        for op in result.pipeline.operators  # type: ignore[union-attr]
        if isinstance(op, LookupJoinOperator)
    )

    assert join.cache_hits == 0
    assert join.cache_misses == 4
    assert "cache=[NONE]" in result.explain()  # type: ignore[union-attr]


def test_lookup_counters_in_metrics(tmp_path: Path) -> None:
    cache = ", 'lookup.cache' = 'PARTIAL', 'lookup.partial-cache.max-rows' = '10'"
    result = _session(tmp_path, "duckdb", cache).sql(LEFT_LOOKUP)

    metrics = result.metrics()  # type: ignore[union-attr]

    lookup = metrics[metrics["operator"].str.startswith("lookup-join")]
    others = metrics[~metrics["operator"].str.startswith("lookup-join")]
    assert len(lookup) == 1
    # One row per batch: keys 1, 2 and 3 miss and are queried once each; the
    # second click of 1 hits, and the NULL key is neither looked up nor cached.
    assert lookup["cache_hits"].iloc[0] == 1
    assert lookup["cache_misses"].iloc[0] == 3
    assert lookup["lookups"].iloc[0] == 3
    assert len(others) > 0
    assert others[["cache_hits", "cache_misses", "lookups"]].isna().all().all()
    assert str(metrics["cache_hits"].dtype) == "Int64"


def test_cache_expires_and_evicts() -> None:
    clock = [0]
    cache = LookupCache(2, after_write_ns=100, after_access_ns=0, clock=lambda: clock[0])
    rows = pd.DataFrame({"id": [1]})
    cache.put((1,), rows)
    cache.put((2,), rows)
    assert cache.get((1,)) is rows
    cache.put((3,), rows)

    # (2,) was least recently used, so the third key evicted it.
    assert cache.get((2,)) is None
    assert cache.get((3,)) is rows
    clock[0] = 100
    assert cache.get((1,)) is None


def test_event_time_needs_versioned_table(tmp_path: Path) -> None:
    session = _session(tmp_path, "duckdb")

    with pytest.raises(UnsupportedError, match="not a versioned table") as info:
        session.sql(
            "SELECT * FROM clicks AS c JOIN users FOR SYSTEM_TIME AS OF c.ts AS u ON c.uid = u.id"
        )
    assert info.value.hint is not None
    assert "PRIMARY KEY" in info.value.hint


def test_lookup_needs_database_table(tmp_path: Path) -> None:
    session = _session(tmp_path, "duckdb")

    with pytest.raises(UnsupportedError, match="cannot be looked up"):
        session.sql(
            "SELECT * FROM clicks AS c JOIN clicks FOR SYSTEM_TIME AS OF c.pt AS d ON c.uid = d.uid"
        )
    with pytest.raises(ValidationError, match="needs an equality"):
        session.sql("SELECT * FROM clicks AS c JOIN users FOR SYSTEM_TIME AS OF c.pt AS u ON TRUE")
