"""User errors in queries: class, position, offending text, hint, and rendering."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import pandas as pd
import pytest

import workbench.errors as errors_module
from tests.support.streams import at, session_with
from workbench import Session
from workbench.errors import (
    QueryError,
    SqlSyntaxError,
    TypeMismatchError,
    UnknownColumnError,
    UnknownTableError,
    UnsupportedError,
    ValidationError,
    WorkbenchError,
)
from workbench.settings import SettingError


def tables() -> Session:
    bids = pd.DataFrame(
        {"ts": at(1, 2), "item": ["a", "b"], "price": [1.5, 2.5], "plain": at(1, 2)}
    )
    other = pd.DataFrame({"ts": at(1), "item": ["a"]})
    return session_with({"bids": bids, "other": other})


@dataclass(frozen=True)
class Case:
    """A query with one mistake and where the error must point."""

    script: str
    error: type[QueryError]
    line: int
    column: int
    offending: str
    hint: str | None
    #: Why the position is still wrong, for a case the engine does not get right yet.
    span_bug: str | None = None


TUMBLE_PLAIN = "SELECT *\nFROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(plain), INTERVAL '10' SECOND))"
RANK = (
    "SELECT item,\n"
    "  ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price) AS rn\n"
    "FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))"
)
MATCH = (
    "SELECT *\nFROM bids\n"
    "  MATCH_RECOGNIZE (PARTITION BY item ORDER BY ts MEASURES A.price AS p "
    "PATTERN (A) DEFINE B AS price > 1)"
)
MATCH_PATTERN = (
    "SELECT *\nFROM bids\n"
    "  MATCH_RECOGNIZE (ORDER BY ts MEASURES A.price AS p\n"
    "    PATTERN (A B++) DEFINE A AS price > 1)"
)

CASES = {
    "syntax": Case("SELECT item\n  FORM bids", SqlSyntaxError, 2, 8, "bids", "did you mean FROM?"),
    "syntax-incomplete": Case("SELECT item\nFROM bids\nWHERE", SqlSyntaxError, 3, 1, "WHERE", None),
    "syntax-unknown-statement": Case(
        "SELEC item FROM bids", SqlSyntaxError, 1, 1, "SELEC", "did you mean SELECT?"
    ),
    "syntax-unterminated-string": Case(
        "SELECT item\nFROM bids WHERE item = 'a", SqlSyntaxError, 2, 24, "'", "close the string"
    ),
    "unknown-table": Case(
        "SELECT item\nFROM bidz", UnknownTableError, 2, 6, "bidz", "did you mean 'bids'?"
    ),
    "unknown-column": Case(
        "SELECT itme\nFROM bids", UnknownColumnError, 1, 8, "itme", "did you mean 'item'?"
    ),
    "unknown-column-where": Case(
        "SELECT item FROM bids\nWHERE prise > 1", UnknownColumnError, 2, 7, "prise", "'price'"
    ),
    "ambiguous-column": Case(
        "SELECT a\nFROM (VALUES (1, 2)) AS v(a, a)", ValidationError, 1, 8, "a", "distinct names"
    ),
    "type-mismatch": Case(
        "SELECT item\nFROM bids\nWHERE price = 'abc'",
        TypeMismatchError,
        3,
        15,
        "'abc'",
        "CAST('abc' AS DOUBLE)",
    ),
    "type-mismatch-aggregate": Case(
        "SELECT SUM(item)\nFROM bids", TypeMismatchError, 1, 8, "SUM(item)", None
    ),
    "unsupported-join": Case(
        "SELECT b.item\nFROM bids AS b\nJOIN other AS o ON b.item = o.item",
        UnsupportedError,
        3,
        6,
        "other AS o ON b.item = o.item",
        "interval joins",
    ),
    "join-interval-without-upper-bound": Case(
        "SELECT b.item\nFROM bids AS b\nJOIN other AS o ON b.item = o.item\n  AND b.ts >= o.ts",
        UnsupportedError,
        4,
        7,
        "b.ts >= o.ts",
        "bound both sides",
    ),
    "join-semi-without-windows": Case(
        "SELECT item\nFROM bids AS b\nWHERE EXISTS (SELECT * FROM other AS o WHERE o.item = b.item)",
        UnsupportedError,
        3,
        7,
        "EXISTS (SELECT * FROM other AS o WHERE o.item = b.item)",
        "window both inputs",
        span_bug="the EXISTS and SELECT keywords record no position, so the span starts at '*'",
    ),
    "match-recognize-define-unknown-variable": Case(
        MATCH,
        ValidationError,
        3,
        91,
        "B AS price > 1",
        "variables: A",
    ),
    "match-recognize-pattern-syntax": Case(
        MATCH_PATTERN,
        ValidationError,
        4,
        18,
        "+",
        "put the quantified part in parentheses, as in (A+)*",
    ),
    "unsupported-order-in-subquery": Case(
        "SELECT *\nFROM (SELECT item FROM bids ORDER BY item)",
        UnsupportedError,
        2,
        38,
        "item",
        "ROW_NUMBER()",
    ),
    "unsupported-rank-without-filter": Case(
        RANK,
        UnsupportedError,
        2,
        3,
        "ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price)",
        "WHERE rn <= 3",
    ),
    "descriptor-not-time-attribute": Case(
        TUMBLE_PLAIN, ValidationError, 2, 42, "plain", "WATERMARK FOR"
    ),
    "bad-interval": Case(
        "SELECT *\nFROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL 'abc' SECOND))",
        ValidationError,
        2,
        47,
        "INTERVAL 'abc' SECOND",
        None,
    ),
    "hop-size-not-multiple": Case(
        "SELECT *\nFROM TABLE(HOP(TABLE bids, DESCRIPTOR(ts),\n"
        "  INTERVAL '3' SECOND, INTERVAL '10' SECOND))",
        ValidationError,
        3,
        33,
        "'10'",
        "SLIDE 5 minutes, SIZE 10 minutes",
    ),
    "syntax-incomplete-comparison": Case(
        "SELECT item FROM bids\nWHERE price >", SqlSyntaxError, 2, 13, ">", None
    ),
    "syntax-empty-list-item": Case(
        "SELECT item,, price\nFROM bids", SqlSyntaxError, 1, 12, ",", "remove the extra"
    ),
    "percentile-of-column": Case(
        "SELECT PERCENTILE(price, price)\nFROM bids", ValidationError, 1, 26, "price", None
    ),
    "tumble-month": Case(
        "SELECT *\nFROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '1' MONTH))",
        ValidationError,
        2,
        47,
        "INTERVAL '1' MONTH",
        "INTERVAL '30' DAY",
    ),
    "view-repeated-column": Case(
        "CREATE VIEW v AS\nSELECT item AS p, price AS p FROM bids",
        ValidationError,
        2,
        19,
        "price AS p",
        "its own name",
    ),
    "insert-reads-its-sink": Case(
        "INSERT INTO bids\nSELECT * FROM bids", ValidationError, 2, 15, "bids", "another 'path'"
    ),
    "unknown-connector": Case(
        "CREATE TABLE k (id BIGINT)\nWITH ('connector' = 'cassandra', 'topic' = 'x')",
        ValidationError,
        2,
        21,
        "'cassandra'",
        "blackhole, csv, duckdb",
    ),
    "invalid-sink-mode": Case(
        "CREATE TABLE o (id BIGINT) WITH ('connector' = 'csv', 'path' = 'o.csv',\n"
        "  'sink.mode' = 'upsert')",
        ValidationError,
        2,
        17,
        "'upsert'",
        None,
    ),
}

#: Words each error's message must contain, for cases whose wording was once misleading.
MESSAGES = {
    "syntax-incomplete-comparison": "expected an expression after '>'",
    "syntax-empty-list-item": "expected an item after ','",
    "percentile-of-column": "the percentage of PERCENTILE must be a constant between 0 and 1",
    "tumble-month": "TUMBLE SIZE must be a day-time interval",
    "view-repeated-column": "the view has two columns named 'p'",
    "insert-reads-its-sink": "INSERT INTO 'bids' also reads 'bids'",
    "unknown-connector": "unknown connector 'cassandra'",
    "invalid-sink-mode": "invalid value 'upsert' for option 'sink.mode'",
}


def positioned(names: list[str]) -> list[object]:
    """Return the case names as parameters, expected to fail where the span is still wrong."""
    params: list[object] = []
    for name in names:
        bug = CASES[name].span_bug
        marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
        params.append(pytest.param(name, marks=marks))
    return params


def raised(script: str, session: Session | None = None) -> QueryError:
    with pytest.raises(QueryError) as info:
        (session or tables()).sql(script)
    return info.value


@pytest.mark.parametrize("name", list(CASES))
def test_error_class(name: str) -> None:
    case = CASES[name]

    error = raised(case.script)

    assert type(error) is case.error


@pytest.mark.parametrize("name", positioned(list(CASES)))
def test_error_position(name: str) -> None:
    case = CASES[name]

    error = raised(case.script)

    assert error.line == case.line
    assert error.column == case.column
    assert error.offending_text == case.offending


@pytest.mark.parametrize("name", list(MESSAGES))
def test_error_message(name: str) -> None:
    error = raised(CASES[name].script)

    assert MESSAGES[name] in error.message


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case.hint])
def test_error_hint(name: str) -> None:
    case = CASES[name]

    error = raised(case.script)

    assert error.hint is not None
    assert case.hint in error.hint


@pytest.mark.parametrize("name", positioned(list(CASES)))
def test_render_marks_offending_text(name: str) -> None:
    case = CASES[name]
    error = raised(case.script)

    lines = error.render().splitlines()
    source = case.script.splitlines()[case.line - 1]

    assert lines[0].startswith(f"line {case.line}, column {case.column}: ")
    assert lines[1] == "  " + source
    assert lines[2] == "  " + " " * (case.column - 1) + "^" * len(case.offending.splitlines()[0])


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case.hint])
def test_render_ends_with_hint(name: str) -> None:
    error = raised(CASES[name].script)

    assert error.render().splitlines()[-1] == f"hint: {error.hint}"


def test_render_html_escapes() -> None:
    error = raised("SELECT item\nFROM bids\nWHERE price > '<b>&x</b>'")

    html = error.render(html=True)

    assert "<b>&x</b>" not in html
    assert "&lt;b&gt;&amp;x&lt;/b&gt;" in html
    assert "<span" in html
    assert html.startswith("<div class='workbench-error'>")


def test_render_html_escapes_hint() -> None:
    session = tables()
    session.from_pandas("a<b", pd.DataFrame({"x": [1]}))

    error = raised("SELECT x FROM a_b", session)

    assert error.hint is not None
    assert "a<b" in error.hint
    assert "a&lt;b" in error.render(html=True)
    assert "a<b" not in error.render(html=True)


def test_str_is_plain_render() -> None:
    error = raised("SELECT itme FROM bids")

    assert str(error) == error.render()


# Scripts of several statements ------------------------------------------------------------

SCRIPT = """CREATE TABLE clicks (
  ts TIMESTAMP(3),
  url STRING,
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'clicks.csv', 'format' = 'csv');

SELECT url FROM clicks;

SELECT url,
       COUNT(*) AS n
FROM clicks
WHERE uri = 'x'
GROUP BY url;
"""


def test_script_error_line_in_whole_script() -> None:
    error = raised(SCRIPT, Session(progress=False))

    assert type(error) is UnknownColumnError
    assert error.line == 12
    assert error.column == 7
    assert error.offending_text == "uri"
    assert error.render().splitlines()[1] == "  WHERE uri = 'x'"


def test_script_syntax_error_line() -> None:
    script = "SELECT item FROM bids;\n\nSELECT item\nFROM bids\nWHERE price >;"

    error = raised(script)

    assert type(error) is SqlSyntaxError
    assert error.line == 5


def test_script_ddl_error_line() -> None:
    script = (
        "SELECT 1 AS one;\n"
        "CREATE TABLE t (\n  a INT,\n  WATERMARK FOR a AS a\n)"
        " WITH ('connector' = 'filesystem', 'path' = 't.csv', 'format' = 'csv')"
    )

    error = raised(script, Session(progress=False))

    assert type(error) is ValidationError
    assert error.line == 4
    assert error.offending_text == "a"


def test_script_error_in_view_points_at_view() -> None:
    session = tables()
    session.sql("SELECT 1 AS one;\nCREATE VIEW cheap AS\n  SELECT item FROM bids WHERE price < 2")

    error = raised("SELECT item\nFROM cheap\nWHERE nothing > 1", session)

    assert error.line == 3
    assert error.offending_text == "nothing"


def test_cast_expression_quoted_whole() -> None:
    error = raised("SELECT CAST(item AS INT) + 'x' FROM bids")

    assert type(error) is TypeMismatchError
    assert "CAST(item AS INT) + 'x'" in error.message
    assert error.offending_text == "'x'"


def test_bad_interval_has_hint() -> None:
    error = raised(CASES["bad-interval"].script)

    assert error.hint is not None
    assert "INTERVAL '" in error.hint


def test_ambiguous_hint_does_not_suggest_qualifier() -> None:
    # Both columns belong to input v, so qualifying with v cannot resolve the name.
    error = raised(CASES["ambiguous-column"].script)
    assert error.hint is not None
    assert "v.a" not in error.hint
    assert "distinct names" in error.hint


def test_unknown_type_has_position() -> None:
    script = (
        "SELECT 1 AS one;\nCREATE TABLE t (\n  a FOO\n)"
        " WITH ('connector' = 'filesystem', 'path' = 't.csv', 'format' = 'csv')"
    )

    error = raised(script, Session(progress=False))

    assert error.line == 3
    assert error.offending_text == "FOO"


def test_duplicate_view_has_position() -> None:
    session = tables()

    error = raised("SELECT 1 AS one;\n\nCREATE VIEW bids AS SELECT 1 AS x", session)

    assert error.line == 3


def test_set_error_has_line() -> None:
    with pytest.raises(WorkbenchError) as info:
        Session(progress=False).sql("SELECT 1 AS one;\n\nSET 'no.such.key' = '1'")

    assert isinstance(info.value, QueryError)
    assert info.value.line == 3


# The hierarchy -----------------------------------------------------------------------------


def test_error_classes_derive_from_root() -> None:
    classes = [
        value
        for value in vars(errors_module).values()
        if inspect.isclass(value) and issubclass(value, Exception)
    ]

    assert len(classes) >= 10
    assert all(issubclass(cls, WorkbenchError) for cls in classes)


def test_setting_error_is_user_error() -> None:
    assert issubclass(SettingError, WorkbenchError)


USER_MISTAKES = {
    "syntax": "SELECT FROM WHERE",
    "unknown-table": "SELECT * FROM nowhere",
    "unknown-setting": "SET 'no.such.key' = '1'",
    "bad-setting-value": "SET 'workbench.replay.batch-rows' = '-3'",
    "unknown-connector": "CREATE TABLE t (a INT) WITH ('connector' = 'nope')",
    "missing-format": "CREATE TABLE t (a INT) WITH ('connector' = 'filesystem', 'path' = 'x')",
    "describe-missing": "DESCRIBE nowhere",
    "show-nonsense": "SHOW NONSENSE",
    "explain-ddl": "EXPLAIN CREATE VIEW q AS SELECT 1 AS one",
    "unknown-function": "SELECT no_such_function(1) AS x",
    "limit-negative": "SELECT 1 AS one LIMIT -1",
    "intersect": "SELECT 1 AS one INTERSECT SELECT 2 AS one",
    "drop-missing-table": "DROP TABLE nowhere",
}


@pytest.mark.parametrize("name", list(USER_MISTAKES))
def test_user_mistake_raises_workbench_error(name: str) -> None:
    with pytest.raises(WorkbenchError):
        Session(progress=False).sql(USER_MISTAKES[name])


def test_drop_if_exists_is_not_a_mistake() -> None:
    result = Session(progress=False).sql("DROP VIEW IF EXISTS nowhere")
    assert "does not exist" in str(result)
