"""Hashes and encodings: MD5, SHA1, SHA2 family, TO_BASE64, FROM_BASE64, ENCODE, DECODE, HEX.

Hashes and base64 run per row through ``hashlib`` and ``base64`` (C code):
neither pandas nor pyarrow has a vectorized form. Strings hash as UTF-8.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa

from workbench.events import types as t
from workbench.events.types import DataType, TypeKind
from workbench.sql.functions.arrow import numeric_parts, string_series
from workbench.sql.functions.base import (
    ArgumentTypeError,
    Invocation,
    Options,
    ScalarFunction,
    Value,
    any_null_scalar,
    expect,
    expect_count,
    is_integer,
    is_null_type,
    is_string,
    map_rows,
)

CHARSETS = {
    "US-ASCII": "ascii",
    "ISO-8859-1": "latin-1",
    "UTF-8": "utf-8",
    "UTF-16BE": "utf-16-be",
    "UTF-16LE": "utf-16-le",
    "UTF-16": "utf-16",
}


def _text_or_bytes(type: DataType) -> bool:
    return type.is_string or type.kind is TypeKind.BINARY or is_null_type(type)


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _infer_hash(name: str) -> Callable[[Sequence[DataType], Options], DataType]:
    def infer(types: Sequence[DataType], options: Options) -> DataType:
        expect_count(name, types, 2 if name == "SHA2" else 1)
        expect(name, types, 0, _text_or_bytes, "a string or BYTES", expected=t.STRING)
        if name == "SHA2":
            expect(
                name, types, 1, is_integer, "the bit length 224, 256, 384 or 512", expected=t.INT
            )
        return t.STRING

    return infer


def _hash(algorithm: str) -> Callable[[Invocation, Sequence[Value]], Value]:
    def implementation(invocation: Invocation, args: Sequence[Value]) -> Value:
        if any_null_scalar(args):
            return None
        return map_rows(
            invocation, lambda value: hashlib.new(algorithm, _as_bytes(value)).hexdigest(), args[:1]
        )

    return implementation


def _sha2(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None

    def digest(value: str | bytes, bits: int) -> str | None:
        if bits not in (224, 256, 384, 512):
            return None
        return hashlib.new(f"sha{bits}", _as_bytes(value)).hexdigest()

    return map_rows(invocation, digest, args)


def _infer_to_base64(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("TO_BASE64", types, 1)
    expect("TO_BASE64", types, 0, _text_or_bytes, "a string or BYTES", expected=t.STRING)
    return t.STRING


def _to_base64(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None
    return map_rows(
        invocation, lambda value: base64.b64encode(_as_bytes(value)).decode("ascii"), args
    )


def _from_base64(invocation: Invocation, args: Sequence[Value]) -> Value:
    """FROM_BASE64(string): the decoded bytes read as UTF-8; NULL for invalid base64."""
    if any_null_scalar(args):
        return None

    def decode(text: str) -> str | None:
        try:
            return base64.b64decode(text, validate=True).decode("utf-8", errors="replace")
        except (binascii.Error, ValueError):
            return None

    return map_rows(invocation, decode, args)


def _infer_encode(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("ENCODE", types, 2)
    expect("ENCODE", types, 0, is_string, "a string", expected=t.STRING)
    expect("ENCODE", types, 1, is_string, "a character set name such as 'UTF-8'", expected=t.STRING)
    return t.BINARY


def _infer_decode(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("DECODE", types, 2)
    expect("DECODE", types, 0, _text_or_bytes, "BYTES", expected=t.BINARY)
    expect("DECODE", types, 1, is_string, "a character set name such as 'UTF-8'", expected=t.STRING)
    return t.STRING


def _charset(name: str) -> str:
    codec = CHARSETS.get(name.upper())
    if codec is None:
        raise ValueError(f"unsupported character set {name!r}: use one of {', '.join(CHARSETS)}")
    return codec


def _encode(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None
    return map_rows(
        invocation, lambda text, charset: text.encode(_charset(charset), errors="replace"), args
    )


def _decode(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None
    return map_rows(
        invocation,
        lambda data, charset: _as_bytes(data).decode(_charset(charset), errors="replace"),
        args,
    )


def _infer_hex(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("HEX", types, 1)
    if not (is_integer(types[0]) or _text_or_bytes(types[0])):
        raise ArgumentTypeError(
            f"HEX expects an integer or a string, got {types[0].plain().sql()}", 0
        )
    return t.STRING


def _hex(invocation: Invocation, args: Sequence[Value]) -> Value:
    """HEX: an integer in 64-bit two's complement, or the UTF-8 bytes of a string, in upper case."""
    if any_null_scalar(args):
        return None
    if invocation.arg_types[0].is_integer:
        values, mask = numeric_parts(
            invocation.broadcast(args[0], invocation.arg_types[0]), "int64"
        )
        texts = [format(int(value) & 0xFFFFFFFFFFFFFFFF, "X") for value in values.astype(np.uint64)]
        return string_series(pa.array(texts, pa.large_string(), mask=mask), invocation.index)
    return map_rows(invocation, lambda value: _as_bytes(value).hex().upper(), args)


FUNCTIONS = [
    ScalarFunction(
        "MD5", _infer_hash("MD5"), _hash("md5"), "MD5(string)", "32 hexadecimal digits."
    ),
    ScalarFunction(
        "SHA1", _infer_hash("SHA1"), _hash("sha1"), "SHA1(string)", "40 hexadecimal digits."
    ),
    ScalarFunction("SHA224", _infer_hash("SHA224"), _hash("sha224"), "SHA224(string)"),
    ScalarFunction("SHA256", _infer_hash("SHA256"), _hash("sha256"), "SHA256(string)"),
    ScalarFunction("SHA384", _infer_hash("SHA384"), _hash("sha384"), "SHA384(string)"),
    ScalarFunction("SHA512", _infer_hash("SHA512"), _hash("sha512"), "SHA512(string)"),
    ScalarFunction("SHA2", _infer_hash("SHA2"), _sha2, "SHA2(string, bits)"),
    ScalarFunction("TO_BASE64", _infer_to_base64, _to_base64, "TO_BASE64(string)"),
    ScalarFunction(
        "FROM_BASE64",
        _infer_to_base64,
        _from_base64,
        "FROM_BASE64(string)",
        "Decodes base64 and reads the bytes as UTF-8.",
    ),
    ScalarFunction("ENCODE", _infer_encode, _encode, "ENCODE(string, charset)", guarded=True),
    ScalarFunction("DECODE", _infer_decode, _decode, "DECODE(bytes, charset)", guarded=True),
    ScalarFunction("HEX", _infer_hex, _hex, "HEX(integer | string)"),
]
