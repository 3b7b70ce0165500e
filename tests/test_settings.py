"""SET and RESET: known keys, validation, Flink keys, and their effect on queries."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.support.streams import at, query, records, session_with
from workbench import Session
from workbench.results import StatementResult, TableResult
from workbench.settings import SETTINGS, SettingError, Settings

LTZ_TEXT = "SELECT CAST(TO_TIMESTAMP_LTZ(0, 0) AS STRING) AS s"


def test_defaults() -> None:
    settings = Settings()

    assert settings["table.local-time-zone"] == "UTC"
    assert settings.batch_rows == 262144
    assert settings["workbench.replay.speed"] == "max"


def test_set_returns_message() -> None:
    result = Session(progress=False).sql("SET 'workbench.replay.batch-rows' = '10'")

    assert isinstance(result, StatementResult)
    assert str(result) == "set 'workbench.replay.batch-rows' = '10'"


def test_set_without_arguments_lists_values() -> None:
    session = Session(progress=False)
    session.sql("SET 'workbench.replay.batch-rows' = '10'")

    result = session.sql("SET")

    assert isinstance(result, TableResult)
    table = result.to_pandas().set_index("key")["value"]
    assert table["workbench.replay.batch-rows"] == "10"
    assert set(SETTINGS) <= set(table.index)


def test_time_zone_changes_ltz_text() -> None:
    session = Session(progress=False)
    session.sql("SET 'table.local-time-zone' = 'Europe/Berlin'")

    frame = query(session, LTZ_TEXT).to_pandas()

    assert frame["s"].tolist() == ["1970-01-01 01:00:00.000"]


def test_reset_one_key() -> None:
    session = Session(progress=False)
    session.sql("SET 'table.local-time-zone' = 'Europe/Berlin'")

    session.sql("RESET 'table.local-time-zone'")

    assert query(session, LTZ_TEXT).to_pandas()["s"].tolist() == ["1970-01-01 00:00:00.000"]


def test_reset_all() -> None:
    session = Session(progress=False)
    session.sql("SET 'table.local-time-zone' = 'Asia/Tokyo'")
    session.sql("SET 'workbench.replay.batch-rows' = '7'")

    result = session.sql("RESET")

    assert str(result) == "settings reset"
    assert session.settings["table.local-time-zone"] == "UTC"
    assert session.settings.batch_rows == 262144


def test_reset_unknown_key_rejected() -> None:
    session = Session(progress=False)

    with pytest.raises(SettingError, match=r"unknown setting 'foo\.bar'") as info:
        session.sql("SELECT 1 AS one;\nRESET 'foo.bar'")

    assert info.value.line == 2


def test_reset_flink_key_accepted() -> None:
    session = Session(progress=False)

    result = session.sql("RESET 'pipeline.name'")

    assert str(result) == "reset 'pipeline.name'"


def test_batch_rows_changes_changelog() -> None:
    frame = pd.DataFrame({"ts": at(1, 2, 3), "k": ["a", "a", "a"]})
    sql = "SELECT k, COUNT(*) AS n FROM events GROUP BY k"

    whole = query(session_with({"events": frame}), sql).changelog()
    session = session_with({"events": frame})
    session.sql("SET 'workbench.replay.batch-rows' = '1'")
    single = query(session, sql).changelog()

    assert len(whole) == 1
    assert records(single, ["op", "n"]) == [("+I", 1), ("-U", 1), ("+U", 2), ("-U", 2), ("+U", 3)]


def test_unknown_key_suggests_close_one() -> None:
    with pytest.raises(SettingError, match=r"did you mean 'workbench\.replay\.batch-rows'"):
        Session(progress=False).sql("SET 'workbench.replay.batchrows' = '5'")


def test_unknown_key_lists_keys() -> None:
    with pytest.raises(SettingError, match=r"known keys: table\.local-time-zone"):
        Session(progress=False).sql("SET 'colour' = 'blue'")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("workbench.replay.batch-rows", "0", "positive whole number"),
        ("workbench.replay.batch-rows", "ten", "positive whole number"),
        ("table.local-time-zone", "Mars/Olympus", "IANA time zone"),
        ("workbench.replay.speed", "-2", "finite number above 0"),
        ("workbench.replay.speed", "inf", "finite number above 0"),
        ("workbench.replay.speed", "nan", "finite number above 0"),
        ("workbench.replay.speed", "fast", "finite number above 0"),
        ("workbench.replay.progress", "maybe", "'auto', 'true' or 'false'"),
    ],
)
def test_invalid_value(key: str, value: str, message: str) -> None:
    session = Session(progress=False)

    with pytest.raises(SettingError, match=message):
        session.sql(f"SET '{key}' = '{value}'")
    assert session.settings[key] == SETTINGS[key].default


def test_flink_key_stored_without_effect() -> None:
    session = Session(progress=False)

    session.sql("SET 'table.exec.mini-batch.enabled' = 'true'")

    assert session.settings["table.exec.mini-batch.enabled"] == "true"


def test_initial_settings() -> None:
    session = Session(progress=False, settings={"table.local-time-zone": "Europe/Berlin"})

    assert query(session, LTZ_TEXT).to_pandas()["s"].tolist() == ["1970-01-01 01:00:00.000"]


def test_initial_settings_validated() -> None:
    with pytest.raises(SettingError):
        Session(progress=False, settings={"workbench.replay.speed": "fast"})


def test_speed_words_normalized() -> None:
    settings = Settings({"workbench.replay.speed": "MAX"})

    assert settings["workbench.replay.speed"] == "max"
