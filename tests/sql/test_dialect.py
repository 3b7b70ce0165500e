"""The Flink dialect on sqlglot: window functions in FROM, DDL extensions, types and calls."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from workbench.sql.dialect import Flink, MatchWithin, WindowTVF


def parse(sql: str) -> exp.Expr:
    node = sqlglot.parse_one(sql, read=Flink)
    assert node is not None
    return node


def tvf(sql: str) -> WindowTVF:
    found = parse(sql).find(WindowTVF)
    assert found is not None
    return found


def interval_text(node: exp.Expr) -> str:
    return node.sql(dialect=Flink)


# Window table-valued functions ----------------------------------------------------------------


def test_tumble_positional() -> None:
    node = tvf("SELECT * FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' MINUTES))")

    assert node.kind == "TUMBLE"
    assert node.this.name == "bids"
    assert node.args["timecol"].name == "ts"
    assert list(node.params) == ["SIZE"]
    assert interval_text(node.params["SIZE"]) == "INTERVAL '10' MINUTE"


def test_tumble_with_offset() -> None:
    node = tvf(
        "SELECT * FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '1' HOUR, "
        "INTERVAL '15' MINUTE))"
    )

    assert list(node.params) == ["SIZE", "OFFSET"]


def test_hop_positional_order() -> None:
    node = tvf(
        "SELECT * FROM TABLE(HOP(TABLE bids, DESCRIPTOR(ts), INTERVAL '5' MINUTE, "
        "INTERVAL '10' MINUTE))"
    )

    assert interval_text(node.params["SLIDE"]) == "INTERVAL '5' MINUTE"
    assert interval_text(node.params["SIZE"]) == "INTERVAL '10' MINUTE"


def test_cumulate_positional_order() -> None:
    node = tvf(
        "SELECT * FROM TABLE(CUMULATE(TABLE bids, DESCRIPTOR(ts), INTERVAL '2' MINUTE, "
        "INTERVAL '10' MINUTE))"
    )

    assert list(node.params) == ["STEP", "SIZE"]


def test_named_arguments() -> None:
    node = tvf(
        "SELECT * FROM TABLE(HOP(DATA => TABLE bids, TIMECOL => DESCRIPTOR(ts), "
        "SIZE => INTERVAL '10' MINUTE, SLIDE => INTERVAL '5' MINUTE))"
    )

    assert node.this.name == "bids"
    assert node.args["timecol"].name == "ts"
    assert interval_text(node.params["SLIDE"]) == "INTERVAL '5' MINUTE"
    assert interval_text(node.params["SIZE"]) == "INTERVAL '10' MINUTE"


def test_without_table_wrapper() -> None:
    node = tvf("SELECT * FROM TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '1' SECOND)")

    assert node.kind == "TUMBLE"


def test_subquery_input() -> None:
    node = tvf(
        "SELECT * FROM TABLE(TUMBLE(TABLE (SELECT * FROM bids WHERE price > 1), "
        "DESCRIPTOR(ts), INTERVAL '1' SECOND))"
    )

    assert isinstance(node.this, (exp.Subquery, exp.Select))


def test_alias_on_window_function() -> None:
    node = tvf(
        "SELECT w.ts FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '1' SECOND)) AS w"
    )

    assert node.alias == "w"


@pytest.mark.parametrize(
    "keys", ["PARTITION BY item, bidder", "PARTITION BY (item, bidder)"], ids=["bare", "parens"]
)
def test_session_partition_keys(keys: str) -> None:
    node = tvf(
        f"SELECT * FROM TABLE(SESSION(TABLE bids {keys}, DESCRIPTOR(ts), INTERVAL '5' MINUTE))"
    )

    assert [key.name for key in node.args["partition_by"]] == ["item", "bidder"]
    assert list(node.params) == ["GAP"]


def test_legacy_group_window_is_a_call() -> None:
    node = parse("SELECT COUNT(*) FROM bids GROUP BY TUMBLE(ts, INTERVAL '1' HOUR)")

    assert node.find(WindowTVF) is None
    group = node.args["group"].expressions[0]
    assert isinstance(group, exp.Anonymous)
    assert group.name.upper() == "TUMBLE"


def test_too_many_arguments() -> None:
    with pytest.raises(ParseError, match="Too many arguments for SESSION"):
        parse(
            "SELECT * FROM TABLE(SESSION(TABLE t, DESCRIPTOR(ts), INTERVAL '1' SECOND, "
            "INTERVAL '2' SECOND))"
        )


def test_descriptor_required() -> None:
    with pytest.raises(ParseError, match="DESCRIPTOR"):
        parse("SELECT * FROM TABLE(TUMBLE(TABLE t, INTERVAL '1' SECOND))")


# DDL ---------------------------------------------------------------------------------------------

DDL = """CREATE TABLE events (
  ts_text STRING,
  payload ROW<`user` ROW<name STRING, age INT>>,
  tags ARRAY<STRING>,
  attrs MAP<STRING, DOUBLE>,
  raw BYTES,
  seen TIMESTAMP_LTZ(3),
  ts AS TO_TIMESTAMP(ts_text),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECONDS
) WITH ('connector' = 'filesystem', 'path' = 'e.jsonl', 'format' = 'json')"""


def columns() -> dict[str, exp.ColumnDef]:
    schema = parse(DDL).this
    return {item.name: item for item in schema.expressions if isinstance(item, exp.ColumnDef)}


def test_watermark_clause() -> None:
    schema = parse(DDL).this
    watermarks = [
        item for item in schema.expressions if isinstance(item, exp.WatermarkColumnConstraint)
    ]

    assert len(watermarks) == 1
    assert watermarks[0].this.name == "ts"
    assert isinstance(watermarks[0].expression, exp.Sub)


def test_computed_column() -> None:
    constraint = columns()["ts"].constraints[0].kind

    assert isinstance(constraint, exp.ComputedColumnConstraint)
    assert isinstance(constraint.this, exp.Anonymous)
    assert constraint.this.name.upper() == "TO_TIMESTAMP"


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        ("ts_text", exp.DataType.Type.TEXT),
        ("payload", exp.DataType.Type.STRUCT),
        ("tags", exp.DataType.Type.ARRAY),
        ("attrs", exp.DataType.Type.MAP),
        ("raw", exp.DataType.Type.VARBINARY),
        ("seen", exp.DataType.Type.TIMESTAMPLTZ),
    ],
)
def test_column_types(column: str, kind: exp.DataType.Type) -> None:
    assert columns()[column].args["kind"].this == kind


def test_nested_row_fields() -> None:
    payload = columns()["payload"].args["kind"]
    user = payload.expressions[0]

    assert user.name == "user"
    assert [field.name for field in user.args["kind"].expressions] == ["name", "age"]


def test_with_options() -> None:
    properties = parse(DDL).args["properties"].expressions
    options = {item.this.name: item.args["value"].this for item in properties}

    assert options == {"connector": "filesystem", "path": "e.jsonl", "format": "json"}


# Expressions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plural", "unit"),
    [("SECONDS", "SECOND"), ("MINUTES", "MINUTE"), ("HOURS", "HOUR"), ("DAYS", "DAY")],
)
def test_plural_interval_units(plural: str, unit: str) -> None:
    interval = parse(f"SELECT INTERVAL '2' {plural}").find(exp.Interval)

    assert interval is not None
    assert interval.unit.name.upper() == unit


def test_timestampdiff_unit_first() -> None:
    call = parse("SELECT TIMESTAMPDIFF(MINUTES, a, b)").find(exp.Anonymous)

    assert call is not None
    assert call.name == "TIMESTAMPDIFF"
    assert [arg.name for arg in call.expressions] == ["MINUTE", "a", "b"]


def test_listagg_separator() -> None:
    call = parse("SELECT LISTAGG(name, '; ') FROM t").find(exp.Anonymous)

    assert call is not None
    assert call.name == "LISTAGG"
    assert call.expressions[1].this == "; "


def test_listagg_distinct() -> None:
    call = parse("SELECT LISTAGG(DISTINCT name) FROM t").find(exp.Anonymous)

    assert call is not None
    assert isinstance(call.expressions[0], exp.Distinct)


@pytest.mark.parametrize("name", ["DATE_FORMAT", "TO_TIMESTAMP", "PERCENTILE", "FIRST_VALUE"])
def test_calls_kept_plain(name: str) -> None:
    call = parse(f"SELECT {name}(a, b) FROM t").find(exp.Anonymous)

    assert call is not None
    assert call.name.upper() == name


def test_identifiers_keep_case() -> None:
    node = parse('SELECT `Price`, "Item" FROM Bids')

    assert [column.name for column in node.find_all(exp.Column)] == ["Price", "Item"]
    assert node.find(exp.Table).name == "Bids"


def test_match_recognize_within_and_subset() -> None:
    node = parse(
        "SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY k ORDER BY ts MEASURES A.v AS v "
        "ONE ROW PER MATCH AFTER MATCH SKIP PAST LAST ROW PATTERN (A B+) "
        "WITHIN INTERVAL '10' MINUTE SUBSET AB = (A, B) DEFINE A AS v > 1, B AS v < 1)"
    )
    match = node.find(exp.MatchRecognize)

    assert match is not None
    assert isinstance(match.args["within"], MatchWithin)
    assert match.args["pattern"].name == "A B+"
    assert match.args["subsets"][0].this.name == "AB"
    assert str(match.args["after"].name) == "AFTER MATCH SKIP PAST LAST ROW"
