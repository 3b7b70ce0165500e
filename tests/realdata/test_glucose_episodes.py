"""Low-glucose episodes in real monitor readings: the demo's pattern against a plain loop."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from workbench import QueryResult, Session

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "glucose.sql"


def readings() -> pd.DataFrame:
    try:
        source = resources.files("bokeh_sampledata").joinpath("_data/CGM.csv.gz")
    except ModuleNotFoundError:
        pytest.skip("the glucose readings need the bokeh_sampledata package")
    with resources.as_file(source) as path:
        frame = pd.read_csv(path, na_values=["nil"])
    frame["datetime"] = pd.to_datetime(frame["datetime"])
    frame["glucose"] = frame["glucose"].astype("Int64")
    return frame


def episode_query() -> str:
    """Return the demo's episode query, with the table read from a DataFrame."""
    text = EXAMPLE.read_text()
    found = re.search(r"SELECT \*\s+FROM glucose MATCH_RECOGNIZE \(.*?\n\);", text, re.S)
    assert found is not None
    return found.group(0)


def loop_episodes(frame: pd.DataFrame) -> list[tuple[pd.Timestamp, int, int]]:
    """Return (first low reading, low readings, lowest) for runs of 3+ lows followed by >= 70."""
    ordered = frame.sort_values("datetime", kind="stable").reset_index(drop=True)
    values = [None if pd.isna(value) else int(value) for value in ordered["glucose"]]
    times = list(ordered["datetime"])
    episodes = []
    row = 0
    while row < len(values):
        end = row
        while end < len(values) and values[end] is not None and values[end] < 70:
            end += 1
        recovered = end < len(values) and values[end] is not None and values[end] >= 70
        if end - row >= 3 and recovered:
            episodes.append((times[row], end - row, min(values[row:end])))
            row = end + 1
        else:
            row += 1
    return episodes


def test_episodes_match_plain_loop() -> None:
    frame = readings()
    session = Session(progress=False)
    session.from_pandas("glucose", frame, rowtime="datetime", watermark_delay="10 min")

    result = session.sql(episode_query())
    assert isinstance(result, QueryResult)
    found = result.to_pandas()
    expected = loop_episodes(frame)

    assert len(expected) > 100
    assert list(zip(found["began"], found["readings"], found["lowest"], strict=True)) == expected
    assert len(result.late_rows()) == 0
