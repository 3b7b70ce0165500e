"""Column types of inline VALUES tables, nested constructors included."""

from __future__ import annotations

from workbench import Session


def test_array_values_unnest() -> None:
    session = Session(progress=False)
    result = session.sql(
        "SELECT name, tag FROM (VALUES ('r1', ARRAY['a', 'b']), ('r2', ARRAY['c'])) "
        "AS t(name, tags) CROSS JOIN UNNEST(tags) AS u(tag)"
    )
    rows = result.to_pandas()
    assert rows["name"].tolist() == ["r1", "r1", "r2"]
    assert rows["tag"].tolist() == ["a", "b", "c"]


def test_map_and_array_columns_are_typed() -> None:
    session = Session(progress=False)
    result = session.sql(
        "SELECT m['k'] AS v, tags[1] AS first FROM (VALUES (MAP['k', 1], ARRAY[1, 2]), "
        "(MAP['k', 2], CAST(NULL AS ARRAY<INT>))) AS t(m, tags)"
    )
    rows = result.to_pandas()
    assert rows["v"].tolist() == [1, 2]
    assert rows["first"].iloc[0] == 1
    assert rows["first"].isna().iloc[1]


def test_scalar_columns_keep_literal_types() -> None:
    session = Session(progress=False)
    result = session.sql(
        "SELECT * FROM (VALUES (1, 'a', 2.5), (3000000000, 'b', NULL)) AS t(n, s, d)"
    )
    types = [column.type.sql() for column in result.schema]
    assert types == ["BIGINT", "STRING", "DOUBLE"]
