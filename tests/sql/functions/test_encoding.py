"""Hashes and encodings: MD5, SHA1, SHA2 family, base64, ENCODE, DECODE, HEX."""

from __future__ import annotations

import pytest

from tests.sql.expression_helpers import frame, run, value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("MD5('test')", "098f6bcd4621d373cade4e832627b4f6", id="md5"),
        pytest.param("MD5('')", "d41d8cd98f00b204e9800998ecf8427e", id="md5-empty"),
        pytest.param("SHA1('test')", "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", id="sha1"),
        pytest.param(
            "SHA224('test')",
            "90a3ed9e32b2aaf4c61c410eb925426119e1a9dc53d4286ade99a809",
            id="sha224",
        ),
        pytest.param(
            "SHA256('test')",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            id="sha256",
        ),
        pytest.param(
            "SHA2('test', 256)",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            id="sha2-256",
        ),
        pytest.param("SHA2('test', 100)", None, id="sha2-invalid-length"),
        pytest.param("MD5(NULL)", None, id="md5-null"),
        pytest.param("TO_BASE64('hello world')", "aGVsbG8gd29ybGQ=", id="to-base64"),
        pytest.param("TO_BASE64('你好')", "5L2g5aW9", id="to-base64-utf8"),
        pytest.param("FROM_BASE64('aGVsbG8gd29ybGQ=')", "hello world", id="from-base64"),
        pytest.param("FROM_BASE64('5L2g5aW9')", "你好", id="from-base64-utf8"),
        pytest.param("FROM_BASE64('***')", None, id="from-base64-invalid"),
        pytest.param("ENCODE('é', 'UTF-8')", "é".encode(), id="encode"),
        pytest.param("DECODE(ENCODE('é', 'UTF-16LE'), 'UTF-16LE')", "é", id="decode-round-trip"),
        pytest.param("HEX(20)", "14", id="hex-number"),
        pytest.param("HEX(100)", "64", id="hex-hundred"),
        pytest.param("HEX(-1)", "FFFFFFFFFFFFFFFF", id="hex-negative"),
        pytest.param("HEX('hello,world')", "68656C6C6F2C776F726C64", id="hex-string"),
    ],
)
def test_constant_encodings(text: str, expected: object) -> None:
    assert value(text) == expected


def test_hash_column_keeps_nulls() -> None:
    data = frame(s=["a", None])
    assert run("MD5(s)", data) == ["0cc175b9c0f1b6a831c399e269772661", None]


def test_hex_column() -> None:
    data = frame(n=[255, None, 16])
    assert run("HEX(n)", data) == ["FF", None, "10"]
