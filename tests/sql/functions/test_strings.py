"""String functions: case, trimming, lengths, positions, substrings, padding, joining."""

from __future__ import annotations

import pytest

from tests.sql.expression_helpers import compile_text, frame, run, value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("UPPER('abc é')", "ABC É", id="upper"),
        pytest.param("LOWER('AbC')", "abc", id="lower"),
        pytest.param("INITCAP('hello wORLD')", "Hello World", id="initcap"),
        pytest.param("INITCAP('fLinK')", "Flink", id="initcap-lowers-rest"),
        pytest.param("TRIM('  x  ')", "x", id="trim-spaces"),
        pytest.param("TRIM(LEADING FROM '  x  ')", "x  ", id="trim-leading"),
        pytest.param("TRIM(TRAILING FROM '  x  ')", "  x", id="trim-trailing"),
        pytest.param("TRIM(BOTH 'abc' FROM 'abcddcba')", "dd", id="trim-character-set"),
        pytest.param("TRIM(BOTH '开心' FROM '心情开开心心')", "情", id="trim-unicode-set"),
        pytest.param("TRIM(LEADING 'e' FROM 'example')", "xample", id="trim-leading-char"),
        pytest.param("LTRIM('  x ')", "x ", id="ltrim"),
        pytest.param("RTRIM(' x  ')", " x", id="rtrim"),
        pytest.param("LTRIM('abcddcba', 'abc')", "ddcba", id="ltrim-characters"),
        pytest.param("RTRIM('abcddcba', 'abc')", "abcdd", id="rtrim-characters"),
        pytest.param("CHAR_LENGTH('héllo')", 5, id="char-length-code-points"),
        pytest.param("CHARACTER_LENGTH('')", 0, id="character-length-empty"),
        pytest.param("POSITION('test' IN 'xxxtest')", 4, id="position"),
        pytest.param("POSITION('testx' IN 'xxxtest')", 0, id="position-absent"),
        pytest.param("POSITION('b' IN 'aéb')", 3, id="position-counts-characters"),
        pytest.param("LOCATE('aa', 'aaads')", 1, id="locate"),
        pytest.param("LOCATE('aa', 'aaads', 2)", 2, id="locate-from"),
        pytest.param("SUBSTRING('This is a test' FROM 2)", "his is a test", id="substring-from"),
        pytest.param("SUBSTRING('This is a test' FROM 2 FOR 3)", "his", id="substring-for"),
        pytest.param("SUBSTRING('abcdef', -2)", "ef", id="substring-negative"),
        pytest.param("SUBSTRING('abcdef', -2, 1)", "e", id="substring-negative-length"),
        pytest.param("SUBSTRING('abcdef', -2, 0)", "", id="substring-zero-length"),
        pytest.param("SUBSTR('abcdef', 100, 10)", "", id="substr-past-end"),
        pytest.param("SUBSTR('abcdef', 2, -1)", None, id="substr-negative-length-null"),
        pytest.param("SUBSTR('abcdef', 0, 2)", "ab", id="substr-start-zero"),
        pytest.param("SUBSTR('abcdef', -10, 3)", "", id="substr-far-negative"),
        pytest.param("REPLACE('hello world', 'world', 'flink')", "hello flink", id="replace"),
        pytest.param("REPLACE('ababab', 'abab', 'z')", "zab", id="replace-non-overlapping"),
        pytest.param("CONCAT('AA', 'BB', 'CC')", "AABBCC", id="concat"),
        pytest.param("CONCAT('AA', NULL)", None, id="concat-null"),
        pytest.param(
            "CONCAT_WS('~', 'AA', NULL, 'BB', '', 'CC')", "AA~BB~~CC", id="concat-ws-skips-null"
        ),
        pytest.param("CONCAT_WS(NULL, 'AA')", None, id="concat-ws-null-separator"),
        pytest.param("LPAD('hi', 4, '??')", "??hi", id="lpad"),
        pytest.param("LPAD('hi', 1, '??')", "h", id="lpad-shortens"),
        pytest.param("LPAD('hi', 5, 'xy')", "xyxhi", id="lpad-repeats-pad"),
        pytest.param("LPAD('', 3, 'ab')", "aba", id="lpad-empty"),
        pytest.param("LPAD('hi', -1, 'x')", None, id="lpad-negative-width"),
        pytest.param("LPAD('hi', 5, '')", None, id="lpad-empty-pad"),
        pytest.param("RPAD('hi', 4, '??')", "hi??", id="rpad"),
        pytest.param("RPAD('äää', 13, '12345')", "äää1234512345", id="rpad-unicode"),
        pytest.param("REPEAT('ab', 3)", "ababab", id="repeat"),
        pytest.param("REPEAT('ab', 0)", "", id="repeat-zero"),
        pytest.param("REPEAT('ab', -1)", "", id="repeat-negative"),
        pytest.param("REVERSE('abc')", "cba", id="reverse"),
        pytest.param("LEFT('Flink', 2)", "Fl", id="left"),
        pytest.param("LEFT('Flink', -2)", "", id="left-negative"),
        pytest.param("LEFT('Flink', 100)", "Flink", id="left-long"),
        pytest.param("RIGHT('Flink', 2)", "nk", id="right"),
        pytest.param("RIGHT('Flink', 0)", "", id="right-zero"),
        pytest.param("RIGHT('Flink', 100)", "Flink", id="right-long"),
        pytest.param("ASCII('abc')", 97, id="ascii"),
        pytest.param("ASCII('')", 0, id="ascii-empty"),
        pytest.param("CHR(65)", "A", id="chr"),
        pytest.param("CHR(97 + 256)", "a", id="chr-modulo"),
        pytest.param("CHR(-9)", "", id="chr-negative"),
    ],
)
def test_constant_strings(text: str, expected: object) -> None:
    assert value(text) == expected


def test_uuid_is_36_characters_per_row() -> None:
    values = run("UUID()", frame(n=[1, 2]))
    assert [len(item) for item in values] == [36, 36]
    assert values[0] != values[1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("UPPER(s)", ["ABC", None, "É"], id="upper"),
        pytest.param("CHAR_LENGTH(s)", [3, None, 1], id="length"),
        pytest.param("SUBSTRING(s, 2)", ["bc", None, ""], id="substring"),
        pytest.param("SUBSTRING(s, 1, i)", ["a", None, "é"], id="substring-column-length"),
        pytest.param("LPAD(s, 4, '-')", ["-abc", None, "---é"], id="lpad"),
        pytest.param("LPAD(s, i, '-')", ["a", None, "-é"], id="lpad-column-width"),
        pytest.param("TRIM(BOTH 'a' FROM s)", ["bc", None, "é"], id="trim-characters"),
        pytest.param("LOCATE('c', s)", [3, None, 0], id="locate"),
        pytest.param("CONCAT_WS('/', s, 'x')", ["abc/x", "x", "é/x"], id="concat-ws"),
        pytest.param("REPEAT(s, i)", ["abc", None, "éé"], id="repeat-column"),
        pytest.param("LEFT(s, i)", ["a", None, "é"], id="left-column"),
        pytest.param("REPLACE(s, 'b', '')", ["ac", None, "é"], id="replace"),
        pytest.param("ASCII(s)", [97, None, 233], id="ascii"),
    ],
)
def test_string_columns(text: str, expected: list[object]) -> None:
    data = frame(s=["abc", None, "é"], i=[1, 1, 2])
    assert run(text, data) == expected


def test_length_type_is_int() -> None:
    assert compile_text("CHAR_LENGTH(s)").type.sql() == "INT"
