"""The live source base: the bounded backlog, drops, rejected rows and options."""

from __future__ import annotations

import asyncio

import pytest

from workbench.errors import SourceError
from workbench.events.schema import Column, Schema
from workbench.sources.live.base import LiveSource
from workbench.sources.live.options import live_options, live_spec
from workbench.sql.sqltypes import parse_type

SCHEMA = Schema((Column("host", parse_type("STRING")), Column("bytes", parse_type("BIGINT"))))


def make_source(**options: str) -> LiveSource:
    values = {"connector": "udp", "port": "0", **options}
    spec = live_spec("udp")
    assert spec is not None
    return LiveSource("ev", SCHEMA, live_options(values), spec)


def test_offer_drops_when_backlog_full() -> None:
    source = make_source(**{"scan.batch.max-rows": "2", "scan.backlog.max-rows": "3"})
    source.bind_events()
    peer = source.open_connection("127.0.0.1:9")

    accepted = [source.offer(b'{"host": "a", "bytes": 1}', peer, size=25) for _ in range(5)]

    assert accepted == [True, True, True, False, False]
    assert source.stats.dropped == 2
    assert source.stats.messages == 5
    assert peer.dropped == 2
    assert source.backlog == 3


def test_put_waits_for_space() -> None:
    async def scenario() -> list[str]:
        source = make_source(**{"scan.batch.max-rows": "1", "scan.backlog.max-rows": "1"})
        source.bind_events()
        peer = source.open_connection("127.0.0.1:9")
        events: list[str] = []

        async def producer() -> None:
            for index in range(2):
                await source.put(b"{}", peer, size=2)
                events.append(f"put {index}")

        task = asyncio.create_task(producer())
        await asyncio.sleep(0.05)
        events.append(f"backlog {source.backlog}")
        source.take()
        await asyncio.wait_for(task, 5)
        return events

    assert asyncio.run(scenario()) == ["put 0", "backlog 1", "put 1"]


def test_decode_rejects_with_peer_and_number() -> None:
    source = make_source()
    source.bind_events()
    peer = source.open_connection("10.1.2.3:4000")
    source.offer(b'{"host": "a", "bytes": 1}', peer, size=25)
    source.offer(b'{"host": "b", "bytes": "lots"}', peer, size=30)
    source.offer(b"[]", peer, size=2)

    frame = source.decode(source.take().messages)
    rows = source.rejected.to_pandas()

    assert list(frame["host"]) == ["a"]
    assert list(rows["line"]) == [3, 2]
    assert rows["reason"][0] == "from 10.1.2.3:4000: expected a JSON object, found list"
    assert rows["reason"][1].startswith("from 10.1.2.3:4000: column 'bytes'")
    assert source.stats.rows_rejected == 2
    assert peer.rejected == 2


def test_rejected_rows_keep_newest() -> None:
    source = make_source(**{"scan.rejected.max-rows": "2"})
    source.bind_events()
    peer = source.open_connection("10.1.2.3:4000")

    for index in range(5):
        source.reject(peer, f"bad {index}", b"x", size=1)

    assert [row[3] for row in source.rejected.rows] == [
        "from 10.1.2.3:4000: bad 3",
        "from 10.1.2.3:4000: bad 4",
    ]
    assert source.stats.rows_rejected == 5


def test_typed_json_columns_conform_like_objects() -> None:
    source = make_source()
    source.bind_events()
    peer = source.open_connection("p")
    source.offer(b'{"host": "a", "bytes": 9223372036854775807}', peer, size=1)
    source.offer(b'{"host": "b", "bytes": 1}', peer, size=1)
    source.offer(b'{"host": null, "bytes": 2.0}', peer, size=1)

    frame = source.decode(source.take().messages)

    assert str(frame["bytes"].dtype) == "Int64"
    assert str(frame["host"].dtype) == "string"
    assert list(frame["bytes"]) == [9223372036854775807, 1, 2]
    assert frame["host"].isna().tolist() == [False, False, True]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"scan.batch.max-rows": "0"}, "at least 1"),
        ({"scan.watermark.idle-timeout": "soon"}, "invalid duration"),
        ({"reconnect.initial-delay": "1 s"}, "unknown option 'reconnect.initial-delay'"),
        ({"timezone": "Mars/Base"}, "IANA time zone"),
        ({"timestamp.epoch-unit": "days"}, "use one of s, ms, us, ns"),
    ],
)
def test_invalid_common_options(options: dict[str, str], message: str) -> None:
    with pytest.raises(SourceError, match=message):
        make_source(**options)
