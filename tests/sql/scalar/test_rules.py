"""How each sqlglot construct compiles: the calls and options it produces."""

from __future__ import annotations

import pytest

from tests.sql.expression_helpers import compile_text
from workbench.sql.expr import Call


def _call(text: str) -> Call:
    expr = compile_text(text)
    assert isinstance(expr, Call)
    return expr


@pytest.mark.parametrize(
    ("text", "function", "options"),
    [
        pytest.param(
            "i BETWEEN SYMMETRIC 1 AND 2", "BETWEEN", {"symmetric": True}, id="between-symmetric"
        ),
        pytest.param("TRIM(LEADING 'x' FROM s)", "TRIM", {"side": "LEADING"}, id="trim-leading"),
        pytest.param("LTRIM(s)", "LTRIM", {"side": "LEADING"}, id="ltrim"),
        pytest.param("RTRIM(s, 'x')", "RTRIM", {"side": "TRAILING"}, id="rtrim"),
        pytest.param("FLOOR(ts TO MINUTE)", "FLOOR", {"unit": "MINUTE"}, id="floor-to"),
        pytest.param("CEIL(ts TO HOURS)", "CEIL", {"unit": "HOUR"}, id="ceil-plural-unit"),
        pytest.param(
            "TIMESTAMPDIFF(SECONDS, ts, ts)",
            "TIMESTAMPDIFF",
            {"unit": "SECOND"},
            id="timestampdiff",
        ),
        pytest.param(
            "TIMESTAMPADD(SQL_TSI_DAY, 1, ts)", "TIMESTAMPADD", {"unit": "DAY"}, id="timestampadd"
        ),
        pytest.param("EXTRACT(DAYOFWEEK FROM ts)", "EXTRACT", {"unit": "DOW"}, id="extract-alias"),
        pytest.param("ROUND(d, 2)", "ROUND", {"places": 2}, id="round-places"),
        pytest.param("CAST(s AS INT)", "CAST", {}, id="cast"),
        pytest.param(
            "CASE WHEN flag THEN 1 ELSE 2 END", "CASE", {"has_else": True}, id="case-else"
        ),
        pytest.param(
            "JSON_VALUE(s, '$.a' RETURNING INT NULL ON ERROR)",
            "JSON_VALUE",
            {"on_error": "NULL"},
            id="json",
        ),
    ],
)
def test_calls_and_options(text: str, function: str, options: dict[str, object]) -> None:
    call = _call(text)
    assert call.function == function
    for key, value in options.items():
        assert call.option(key) == value


@pytest.mark.parametrize(
    ("text", "function"),
    [
        pytest.param("i <> 1", "<>", id="not-equal"),
        pytest.param("i != 1", "<>", id="bang-equal"),
        pytest.param("i IS NOT DISTINCT FROM 1", "IS NOT DISTINCT FROM", id="not-distinct"),
        pytest.param("flag IS NOT FALSE", "IS NOT FALSE", id="is-not-false"),
        pytest.param("NOT (flag IS TRUE)", "IS NOT TRUE", id="not-is-true"),
        pytest.param("s NOT LIKE 'a%'", "NOT", id="not-like"),
        pytest.param("s LIKE 'a!%' ESCAPE '!'", "LIKE", id="like-escape"),
        pytest.param("s NOT SIMILAR TO 'a'", "NOT", id="not-similar"),
        pytest.param("i NOT IN (1, 2)", "NOT", id="not-in"),
        pytest.param("LOG10(d)", "LOG10", id="log10"),
        pytest.param("LOG2(d)", "LOG2", id="log2"),
        pytest.param("LOG(d)", "LOG", id="log"),
        pytest.param("LN(d)", "LN", id="ln"),
        pytest.param("ATAN2(d, d)", "ATAN2", id="atan2"),
        pytest.param("LPAD(s, 2, 'x')", "LPAD", id="lpad"),
        pytest.param("RPAD(s, 2, 'x')", "RPAD", id="rpad"),
        pytest.param("POSITION('a' IN s)", "LOCATE", id="position"),
        pytest.param("INSTR(s, 'a')", "LOCATE", id="instr"),
        pytest.param("CHARACTER_LENGTH(s)", "CHAR_LENGTH", id="character-length"),
        pytest.param("SHA1(s)", "SHA1", id="sha1"),
        pytest.param("POW(d, 2)", "POWER", id="pow"),
        pytest.param("IFNULL(i, 0)", "COALESCE", id="ifnull"),
        pytest.param("NVL(i, 0)", "COALESCE", id="nvl"),
        pytest.param("IF(flag, 1, 2)", "IF", id="if"),
        pytest.param("LOCALTIMESTAMP", "LOCALTIMESTAMP", id="bare-localtimestamp"),
        pytest.param("LOCALTIME", "LOCALTIME", id="bare-localtime"),
        pytest.param("CURRENT_DATE", "CURRENT_DATE", id="current-date"),
        pytest.param("MAP['a', 1]", "MAP", id="map-constructor"),
        pytest.param("ARRAY[1]", "ARRAY", id="array-constructor"),
        pytest.param("ROW(1, 2)", "ROW", id="row-constructor"),
        pytest.param("tags[1]", "ITEM", id="subscript"),
        pytest.param("person.home.city", "FIELD", id="field-chain"),
        pytest.param("(person).age", "FIELD", id="parenthesized-field"),
        pytest.param("DATE_FORMAT(ts, 'yyyy')", "DATE_FORMAT", id="kept-call"),
        pytest.param("TRY_CAST(s AS INT)", "TRY_CAST", id="try-cast"),
    ],
)
def test_function_names(text: str, function: str) -> None:
    assert _call(text).function == function


def test_simple_case_compares_operand_per_branch() -> None:
    call = _call("CASE i WHEN 1 THEN 'a' WHEN 2 THEN 'b' END")
    conditions = [call.args[0], call.args[2]]
    assert all(isinstance(item, Call) and item.function == "=" for item in conditions)


def test_case_branches_converted_to_result() -> None:
    call = _call("CASE WHEN flag THEN ts ELSE ltz END")
    first = call.args[1]
    assert isinstance(first, Call)
    assert first.function == "CAST"


def test_ltz_literal_casts_at_run_time() -> None:
    call = _call("TIMESTAMP_LTZ '2024-01-01 00:00:00'")
    assert call.function == "CAST"
    assert call.type.kind.value == "TIMESTAMP_LTZ"
