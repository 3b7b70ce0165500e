"""sqlglot node tables: time units, arguments and the direct function mapping."""

from __future__ import annotations

import pytest
import sqlglot

from workbench.sql.dialect import Flink
from workbench.sql.functions import default_registry
from workbench.sql.scalar.nodes import FUNCTION_NODES, arguments, normalize_unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("minute", "MINUTE", id="lower-case"),
        pytest.param("MINUTES", "MINUTE", id="plural"),
        pytest.param("SQL_TSI_HOUR", "HOUR", id="sql-tsi"),
        pytest.param("DAYOFWEEK", "DOW", id="alias"),
        pytest.param("DOY", "DOY", id="extract-unit"),
        pytest.param("MONTHS", "MONTH", id="plural-month"),
    ],
)
def test_normalize_unit(text: str, expected: str) -> None:
    assert normalize_unit(text) == expected


def test_mapped_nodes_name_library_functions() -> None:
    registry = default_registry()
    missing = [name for name, _ in FUNCTION_NODES.values() if name not in registry]
    assert missing == []


def test_arguments_follow_key_order() -> None:
    node = sqlglot.parse_one("CONCAT_WS('-', a, b)", read=Flink)
    assert [item.sql() for item in arguments(node, ("expressions",))] == ["'-'", "a", "b"]
    position = sqlglot.parse_one("LOCATE('a', b, 2)", read=Flink)
    assert [item.sql() for item in arguments(position, ("substr", "this", "position"))] == [
        "'a'",
        "b",
        "2",
    ]
