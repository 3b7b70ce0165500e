"""JSON_VALUE, JSON_EXISTS and PARSE_URL."""

from __future__ import annotations

import pytest

from tests.sql.expression_helpers import compile_text, frame, run, value
from workbench.errors import QueryRuntimeError
from workbench.sql.functions.structured import JsonPathError, parse_path, parse_url_python


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("""JSON_VALUE('{"a": true}', '$.a')""", "true", id="boolean-as-text"),
        pytest.param(
            """JSON_VALUE('{"a": true}', '$.a' RETURNING BOOLEAN)""", True, id="returning-boolean"
        ),
        pytest.param(
            """JSON_VALUE('{"a": {"b": 3}}', '$.a.b' RETURNING INT)""", 3, id="nested-int"
        ),
        pytest.param("""JSON_VALUE('{"a": "x"}', '$.a')""", "x", id="string"),
        pytest.param("""JSON_VALUE('{"a": [1, 2]}', '$.a[1]')""", "2", id="array-index"),
        pytest.param(
            """JSON_VALUE('{"a.b": [0.998, 0.996]}', '$.["a.b"][0]' RETURNING DOUBLE)""",
            0.998,
            id="quoted-key",
        ),
        pytest.param("""JSON_VALUE('{"a b": "ok"}', '$[''a b'']')""", "ok", id="single-quoted-key"),
        pytest.param("""JSON_VALUE('{"a": true}', '$.b')""", None, id="missing-null"),
        pytest.param(
            """JSON_VALUE('{"a": true}', 'lax $.b' DEFAULT 'none' ON EMPTY)""",
            "none",
            id="default-empty",
        ),
        pytest.param(
            """JSON_VALUE('{"a": true}', 'strict $.b' DEFAULT 'bad' ON ERROR)""",
            "bad",
            id="strict-default-error",
        ),
        pytest.param("""JSON_VALUE('{"a": {"b": 1}}', '$.a')""", None, id="object-is-error-null"),
        pytest.param("""JSON_VALUE('not json', '$.a')""", None, id="invalid-json-null"),
        pytest.param(
            """JSON_VALUE('{"a": "x"}', '$.a' RETURNING INT)""", None, id="wrong-type-null"
        ),
        pytest.param("""JSON_VALUE('{"a": null}', '$.a')""", None, id="json-null"),
        pytest.param("""JSON_EXISTS('{"a": true}', '$.a')""", True, id="exists"),
        pytest.param("""JSON_EXISTS('{"a": true}', '$.b')""", False, id="exists-missing"),
        pytest.param("""JSON_EXISTS('{"a": [{"b": 1}]}', '$.a[0].b')""", True, id="exists-nested"),
        pytest.param("""JSON_EXISTS('oops', '$.a')""", False, id="exists-invalid-json"),
    ],
)
def test_json(text: str, expected: object) -> None:
    assert value(text) == expected


def test_json_value_error_on_error_raises() -> None:
    with pytest.raises(QueryRuntimeError, match="ERROR ON ERROR"):
        value("""JSON_VALUE('nope', '$.a' ERROR ON ERROR)""")


def test_json_value_returning_type() -> None:
    assert compile_text("JSON_VALUE(s, '$.a' RETURNING DOUBLE)").type.sql() == "DOUBLE"


def test_json_value_column() -> None:
    data = frame(s=['{"user": {"id": 7}}', None, '{"user": {}}'])
    assert run("JSON_VALUE(s, '$.user.id' RETURNING BIGINT)", data) == [7, None, None]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("$", (False, ()), id="root"),
        pytest.param("$.a.b", (False, ("a", "b")), id="members"),
        pytest.param("strict $.a[2]", (True, ("a", 2)), id="strict-index"),
        pytest.param("lax $['x y']", (False, ("x y",)), id="bracket-name"),
    ],
)
def test_parse_path(path: str, expected: tuple[bool, tuple[object, ...]]) -> None:
    assert parse_path(path) == expected


def test_parse_path_rejects_missing_dollar() -> None:
    with pytest.raises(JsonPathError):
        parse_path("a.b")


_URL = "http://userinfo@flink.apache.org/path?query=1#Ref"
_URL_PARTS = [
    ("HOST", "flink.apache.org"),
    ("PATH", "/path"),
    ("QUERY", "query=1"),
    ("REF", "Ref"),
    ("PROTOCOL", "http"),
    ("FILE", "/path?query=1"),
    ("AUTHORITY", "userinfo@flink.apache.org"),
    ("USERINFO", "userinfo"),
]


@pytest.mark.parametrize(("part", "expected"), _URL_PARTS, ids=[part for part, _ in _URL_PARTS])
def test_parse_url_parts(part: str, expected: str) -> None:
    assert value(f"PARSE_URL('{_URL}', '{part}')") == expected


@pytest.mark.parametrize(
    ("url", "part", "expected"),
    [
        pytest.param("http://user:pass@host", "PATH", "", id="no-path"),
        pytest.param("http://user:pass@host", "QUERY", None, id="no-query"),
        pytest.param("http://user:pass@host/?#", "QUERY", "", id="empty-query"),
        pytest.param("http://user:pass@host/?#", "REF", "", id="empty-ref"),
        pytest.param("http://host:8080/p", "HOST", "host", id="host-without-port"),
        pytest.param("invalid://user:pass@host/file", "HOST", None, id="unknown-protocol"),
        pytest.param("http://host/p#frag?x", "QUERY", None, id="question-mark-in-fragment"),
    ],
)
def test_parse_url_edges(url: str, part: str, expected: str | None) -> None:
    assert value(f"PARSE_URL('{url}', '{part}')") == expected
    assert parse_url_python(url, part) == expected


def test_parse_url_query_key() -> None:
    assert value("PARSE_URL('http://h/p.php?k1=v1&k2=v2#Ref1', 'QUERY', 'k2')") == "v2"
    assert value("PARSE_URL('http://h/p.php?k1=v1', 'QUERY', 'k3')") is None


def test_parse_url_column() -> None:
    data = frame(s=["https://a.example/x?q=1", None, "ftp://b.example/"])
    assert run("PARSE_URL(s, 'HOST')", data) == ["a.example", None, "b.example"]
    assert run("PARSE_URL(s, 'QUERY')", data) == ["q=1", None, None]
