"""Splitting scripts into statements, the workbench's own statements, and positions."""

from __future__ import annotations

import pytest
from sqlglot import exp

from workbench.errors import SqlSyntaxError
from workbench.sql.parser import node_position, parse_script, split_statements


def texts(script: str) -> list[str]:
    return [script[start:end] for start, end in split_statements(script)]


def only(script: str):
    statements = parse_script(script)
    assert len(statements) == 1
    return statements[0]


def test_split_at_semicolons() -> None:
    assert texts("SELECT 1; SELECT 2;\nSELECT 3") == ["SELECT 1", "SELECT 2", "SELECT 3"]


def test_split_ignores_semicolon_in_string() -> None:
    assert texts("SELECT 'a;b' AS s; SELECT 2") == ["SELECT 'a;b' AS s", "SELECT 2"]


def test_split_ignores_semicolon_in_comment() -> None:
    assert texts("SELECT 1 -- one; two\n; SELECT 2") == ["SELECT 1", "SELECT 2"]


def test_split_skips_empty_statements() -> None:
    assert texts(";;SELECT 1;;") == ["SELECT 1"]


def test_empty_script() -> None:
    assert parse_script("  -- nothing here\n") == []


@pytest.mark.parametrize(
    ("script", "kind"),
    [
        ("SELECT 1", "query"),
        ("WITH a AS (SELECT 1 AS x) SELECT x FROM a", "query"),
        ("VALUES (1)", "query"),
        ("(SELECT 1)", "query"),
        ("INSERT INTO t SELECT 1", "insert"),
        ("CREATE TABLE t (a INT) WITH ('connector' = 'blackhole')", "create_table"),
        ("CREATE TEMPORARY TABLE t (a INT) WITH ('connector' = 'blackhole')", "create_table"),
        ("CREATE VIEW v AS SELECT 1", "create_view"),
        ("CREATE OR REPLACE VIEW v AS SELECT 1", "create_view"),
        ("DROP TABLE t", "drop"),
        ("DROP VIEW IF EXISTS v", "drop"),
        ("SET 'a.b' = 'c'", "set"),
        ("SET", "set"),
        ("RESET 'a.b'", "reset"),
        ("RESET", "reset"),
        ("SHOW TABLES", "show"),
        ("DESCRIBE t", "describe"),
        ("DESC t", "describe"),
        ("EXPLAIN SELECT 1", "explain"),
    ],
)
def test_statement_kind(script: str, kind: str) -> None:
    assert only(script).kind == kind


def test_statement_line_in_script() -> None:
    statements = parse_script("SELECT 1;\n\n  SELECT 2;\nSELECT\n3")

    assert [statement.line for statement in statements] == [1, 3, 4]


def test_statement_text_and_start() -> None:
    script = "SELECT 1;\n  SELECT 2"

    second = parse_script(script)[1]

    assert second.text == "SELECT 2"
    assert script[second.start :].startswith("SELECT 2")
    assert second.script == script


# SET and RESET ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "words"),
    [
        (
            "SET 'table.local-time-zone' = 'Europe/Berlin'",
            ("table.local-time-zone", "Europe/Berlin"),
        ),
        ("SET workbench.replay.speed = max", ("workbench.replay.speed", "max")),
        ("set 'a' = 'it''s'", ("a", "it's")),
        ("SET 'a' = ''", ("a", "")),
        ("SET", ()),
    ],
)
def test_set_words(script: str, words: tuple[str, ...]) -> None:
    assert only(script).words == words


def test_reset_one_key() -> None:
    assert only("RESET 'workbench.replay.speed'").words == ("workbench.replay.speed",)


def test_reset_all() -> None:
    assert only("RESET").words == ()


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("SET 'a'", "has no value"),
        ("RESET 'a' = 'b'", "RESET takes only a key"),
        ("SET 'a' = 'b' 'c'", "invalid SET statement"),
    ],
)
def test_set_errors(script: str, message: str) -> None:
    with pytest.raises(SqlSyntaxError, match=message) as info:
        parse_script("SELECT 1;\n" + script)

    assert info.value.line == 2
    assert info.value.hint is not None


# SHOW, DESCRIBE, EXPLAIN ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("SHOW TABLES", ("TABLES",)),
        ("show views", ("VIEWS",)),
        ("SHOW FUNCTIONS", ("FUNCTIONS",)),
        ("SHOW QUERIES", ("QUERIES",)),
        ("SHOW CREATE TABLE bids", ("CREATE TABLE", "bids")),
        ("SHOW  CREATE  VIEW  cheap", ("CREATE VIEW", "cheap")),
    ],
)
def test_show_words(script: str, words: tuple[str, ...]) -> None:
    assert only(script).words == words


def test_show_unknown_object() -> None:
    with pytest.raises(SqlSyntaxError, match="cannot show 'COLUMNS'") as info:
        parse_script("SHOW COLUMNS")

    assert info.value.hint is not None
    assert "SHOW TABLES" in info.value.hint


@pytest.mark.parametrize(
    ("script", "name"), [("DESCRIBE bids", "bids"), ("DESC `odd name`", "odd name")]
)
def test_describe_name(script: str, name: str) -> None:
    assert only(script).words == (name,)


def test_describe_needs_one_name() -> None:
    with pytest.raises(SqlSyntaxError, match="one table or view name"):
        parse_script("DESCRIBE a b")


@pytest.mark.parametrize("script", ["EXPLAIN SELECT 1", "EXPLAIN PLAN FOR SELECT 1"])
def test_explain_inner_statement(script: str) -> None:
    statement = only(script)

    assert statement.inner is not None
    assert statement.inner.kind == "query"
    assert statement.inner.text == "SELECT 1"


def test_explain_needs_statement() -> None:
    with pytest.raises(SqlSyntaxError, match="EXPLAIN needs a statement"):
        parse_script("EXPLAIN")


# Syntax errors ---------------------------------------------------------------------------------


def test_unknown_statement_hint() -> None:
    with pytest.raises(SqlSyntaxError) as info:
        parse_script("SELECT 1;\nINSRT INTO t SELECT 1")

    assert info.value.line == 2
    assert info.value.column == 1
    assert info.value.offending_text == "INSRT"
    assert info.value.hint == "did you mean INSERT?"


def test_unterminated_string_position() -> None:
    with pytest.raises(SqlSyntaxError, match="unterminated string") as info:
        parse_script("SELECT 1;\nSELECT 'abc FROM t")

    assert info.value.line == 2
    assert info.value.column == 8


def test_quote_in_comment_is_not_a_string() -> None:
    statements = parse_script("SELECT 1 AS x -- it's fine\n")

    assert len(statements) == 1


def test_doubled_quote_inside_string() -> None:
    statement = only("SELECT 'it''s' AS s")

    assert statement.node is not None
    assert statement.node.find(exp.Literal).this == "it's"


def test_backslash_is_plain_character() -> None:
    statement = only(r"SELECT 'a\d' AS s")

    assert statement.node is not None
    assert statement.node.find(exp.Literal).this == "a\\d"


def test_syntax_error_offset_in_later_statement() -> None:
    with pytest.raises(SqlSyntaxError) as info:
        parse_script("SELECT 1;\nSELECT 2;\nSELECT a FROM WHERE b")

    assert info.value.line == 3
    assert info.value.sql is not None
    assert info.value.sql.startswith("SELECT 1;")


def test_node_position_in_script() -> None:
    script = "SELECT 1;\nSELECT price\nFROM bids"
    statement = parse_script(script)[1]
    assert statement.node is not None

    position = node_position(script, statement.node.find(exp.Column))

    assert position is not None
    assert position.line == 2
    assert position.column == 8
    assert script[position.start : position.end] == "price"


def test_node_position_covers_call() -> None:
    script = "SELECT SUM(price) FROM bids"
    statement = only(script)
    assert statement.node is not None

    position = node_position(script, statement.node.find(exp.Sum))

    assert position is not None
    assert script[position.start : position.end] == "SUM(price)"
