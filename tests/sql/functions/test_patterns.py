"""LIKE, SIMILAR TO, REGEXP, REGEXP_EXTRACT, REGEXP_REPLACE, SPLIT_INDEX and STR_TO_MAP."""

from __future__ import annotations

import pytest

from tests.sql.expression_helpers import frame, run, value
from workbench.sql.functions.patterns import (
    capture_groups,
    java_replacement,
    like_to_arrow,
    name_group,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("'abcxxxdef' LIKE 'abcx%'", True, id="like-prefix"),
        pytest.param("'abcxxxdef' LIKE '%%def'", True, id="like-double-percent"),
        pytest.param("'abcxxxdef' LIKE 'abc%def%'", True, id="like-middle"),
        pytest.param("'abcxxxdef' LIKE '%xqef'", False, id="like-miss"),
        pytest.param("'This' LIKE 'Th_s'", True, id="like-underscore"),
        pytest.param("'a\\b' LIKE 'a\\b'", True, id="like-backslash-is-literal"),
        pytest.param("'%This' LIKE '&%Th_s' ESCAPE '&'", True, id="like-escape"),
        pytest.param("'xThis' LIKE '&%Th_s' ESCAPE '&'", False, id="like-escaped-percent-literal"),
        pytest.param("'a_b' LIKE 'a!_b' ESCAPE '!'", True, id="like-escaped-underscore"),
        pytest.param("'abc' NOT LIKE 'a%'", False, id="not-like"),
        pytest.param("NULL LIKE 'a%'", None, id="like-null"),
        pytest.param(
            "'This is a test String.' SIMILAR TO 'This (is)? a (test)+ Strin_*'", True, id="similar"
        ),
        pytest.param("'abc' SIMILAR TO '(a|b)%'", True, id="similar-alternation"),
        pytest.param("'abc' SIMILAR TO 'b%'", False, id="similar-anchored"),
        pytest.param("'a.c' SIMILAR TO 'a.c'", True, id="similar-dot-literal"),
        pytest.param("'abc' SIMILAR TO 'a.c'", False, id="similar-dot-not-wildcard"),
        pytest.param("'abc' NOT SIMILAR TO '_*'", False, id="not-similar"),
        pytest.param("REGEXP('100-200', '(\\d+)')", True, id="regexp"),
        pytest.param("REGEXP('abc-def', '(\\d+)')", False, id="regexp-miss"),
        pytest.param("REGEXP('foobar', '(?<=foo)bar')", True, id="regexp-lookbehind-falls-back"),
        pytest.param("REGEXP_EXTRACT('foothebar', 'foo(.*?)(bar)', 2)", "bar", id="extract-second"),
        pytest.param("REGEXP_EXTRACT('foothebar', 'foo(.*?)(bar)', 1)", "the", id="extract-first"),
        pytest.param(
            "REGEXP_EXTRACT('foothebar', 'foo(.*?)(bar)', 0)", "foothebar", id="extract-whole"
        ),
        pytest.param(
            "REGEXP_EXTRACT('foothebar', 'foo(.*?)(bar)')", "foothebar", id="extract-default"
        ),
        pytest.param("REGEXP_EXTRACT('foothebar', 'foo([\\d]+)', 1)", None, id="extract-no-match"),
        pytest.param(
            "REGEXP_EXTRACT('100-200', '(\\d+)-(\\d+)', 3)", None, id="extract-missing-group"
        ),
        pytest.param(
            "REGEXP_EXTRACT('100-200', '(\\d+)-(\\d+)', -1)", None, id="extract-negative-group"
        ),
        pytest.param("REGEXP_EXTRACT('100-200', '', 1)", None, id="extract-empty-regex"),
        pytest.param(
            "REGEXP_EXTRACT('k=v', '(?<key>\\w)=(?<val>\\w)', 2)", "v", id="extract-java-named"
        ),
        pytest.param("REGEXP_EXTRACT('aa-aa', '(a+)-\\1', 1)", "aa", id="extract-backreference"),
        pytest.param("REGEXP_REPLACE('foobar', 'oo|ar', '')", "fb", id="replace"),
        pytest.param("REGEXP_REPLACE('100-200', '(\\d+)', 'num')", "num-num", id="replace-groups"),
        pytest.param(
            "REGEXP_REPLACE('100-200', '(\\d+)-(\\d+)', '$2-$1')",
            "200-100",
            id="replace-references",
        ),
        pytest.param("REGEXP_REPLACE('100-200', '', '400')", "100-200", id="replace-empty-regex"),
        pytest.param("REGEXP_REPLACE('fooobar', 'oo', '$')", "f$obar", id="replace-lone-dollar"),
        pytest.param(
            "REGEXP_REPLACE('foobar', 'oo', '\\\\')", "f\\bar", id="replace-escaped-backslash"
        ),
        pytest.param("REGEXP_REPLACE(NULL, 'a', 'b')", None, id="replace-null"),
        pytest.param("SPLIT_INDEX('Test', 'e', 1)", "st", id="split"),
        pytest.param("SPLIT_INDEX('a,b,,c', ',', 2)", "", id="split-keeps-empty"),
        pytest.param("SPLIT_INDEX('a,b', ',', 2)", None, id="split-out-of-range"),
        pytest.param("SPLIT_INDEX('a,b', ',', -1)", None, id="split-negative"),
        pytest.param("SPLIT_INDEX('a::b', '::', 1)", "b", id="split-long-separator"),
    ],
)
def test_constant_patterns(text: str, expected: object) -> None:
    assert value(text) == expected


def test_str_to_map_defaults() -> None:
    assert value("STR_TO_MAP('a=1,b=2,c')") == {"a": "1", "b": "2", "c": None}


def test_str_to_map_regex_delimiters() -> None:
    assert value("STR_TO_MAP('a:1; b:2', ';\\s*', ':')") == {"a": "1", "b": "2"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("s LIKE '%a%'", [True, False, None], id="like"),
        pytest.param("s LIKE CONCAT(s, '%')", [True, True, None], id="like-column-pattern"),
        pytest.param("REGEXP_EXTRACT(s, '(\\w)(\\d)', 2)", ["1", None, None], id="extract"),
        pytest.param("REGEXP_REPLACE(s, '[0-9]', '#')", ["a#b", "xyz", None], id="replace"),
        pytest.param("SPLIT_INDEX(s, 'y', 0)", ["a1b", "x", None], id="split"),
    ],
)
def test_pattern_columns(text: str, expected: list[object]) -> None:
    data = frame(s=["a1b", "xyz", None])
    assert run(text, data) == expected


def test_like_to_arrow_rewrites_escape() -> None:
    assert like_to_arrow("a!%b\\c", "!") == "a\\%b\\\\c"


def test_capture_groups_skip_classes_and_escapes() -> None:
    assert capture_groups(r"\(a([(])(b)(?:c)(?P<n>d)") == [3, 8, 16]


def test_name_group_makes_others_non_capturing() -> None:
    assert name_group(r"(a)(b)", 2) == ("(?:a)(?P<workbench_group>b)", "workbench_group")


@pytest.mark.parametrize(
    ("replacement", "python", "expected"),
    [
        pytest.param("$1", False, "\\1", id="re2-group"),
        pytest.param("$1", True, "\\g<1>", id="python-group"),
        pytest.param("\\$", False, "$", id="escaped-dollar"),
        pytest.param("a\\b", False, "ab", id="escaped-letter"),
    ],
)
def test_java_replacement(replacement: str, python: bool, expected: str) -> None:
    assert java_replacement(replacement, python=python) == expected
