"""Nested values: ROW field access, subscripts, ARRAY/MAP/ROW constructors and collection functions.

ROW values are dicts keyed by field name (tuples by position are read too),
ARRAY values are lists and MAP values are dicts. These functions work row by
row in Python, because the values are Python objects in ``object`` columns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from workbench.events import types as t
from workbench.events.types import DataType, TypeKind
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
    objects_to_series,
    to_objects,
)
from workbench.sql.functions.cast_nested import field_value
from workbench.sql.functions.comparison import check_comparable
from workbench.sql.functions.conditional import common_result_type


def _is_array(type: DataType) -> bool:
    return type.kind is TypeKind.ARRAY or is_null_type(type)


def _is_map(type: DataType) -> bool:
    return type.kind is TypeKind.MAP or is_null_type(type)


# Field access and subscripts -------------------------------------------------------------


def infer_field(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("FIELD", types, 1)
    name = str(options.get("field", ""))
    row = types[0]
    if row.kind is not TypeKind.ROW:
        raise ArgumentTypeError(
            f"cannot read field {name!r} of {row.plain().sql()}: it is not a ROW", 0
        )
    found = row.field_type(name)
    if found is None:
        fields = ", ".join(field.name for field in row.fields)
        raise ArgumentTypeError(
            f"field {name!r} not found in {row.plain().sql()}", 0, hint=f"fields: {fields}"
        )
    return found.plain().with_nullable(True)


def _field(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None
    row_type = invocation.arg_types[0]
    name = str(invocation.option("field"))
    declared = next((field.name for field in row_type.fields if field.name == name), None)
    if declared is None:
        declared = next(
            field.name for field in row_type.fields if field.name.lower() == name.lower()
        )
    position = [field.name for field in row_type.fields].index(declared)
    rows = to_objects(args[0], invocation.length)
    values = [None if row is None else field_value(row, declared, position) for row in rows]
    return objects_to_series(values, invocation.result_type, invocation.index)


def _infer_item(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("ITEM", types, 2)
    container, key = types
    if container.kind is TypeKind.ARRAY:
        expect(
            "ITEM",
            types,
            1,
            is_integer,
            "an integer index (1 is the first element)",
            expected=t.INT,
        )
        assert container.element is not None
        return container.element.plain().with_nullable(True)
    if container.kind is TypeKind.MAP:
        assert container.key is not None and container.value is not None
        check_comparable("[]", container.key, key, ordering=False)
        return container.value.plain().with_nullable(True)
    raise ArgumentTypeError(
        f"cannot subscript {container.plain().sql()}: [] reads an ARRAY or a MAP", 0
    )


def _item(invocation: Invocation, args: Sequence[Value]) -> Value:
    """array[i] (1-based, NULL when out of range) and map[key] (NULL when absent)."""
    if any_null_scalar(args):
        return None
    if invocation.arg_types[0].kind is TypeKind.ARRAY:

        def element(array: Any, position: int) -> Any:
            return array[position - 1] if 1 <= position <= len(array) else None

        return map_rows(invocation, element, args)
    return map_rows(invocation, lambda mapping, key: mapping.get(key), args)


# Collections -----------------------------------------------------------------------------


def _infer_cardinality(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("CARDINALITY", types, 1)
    expect(
        "CARDINALITY", types, 0, lambda item: _is_array(item) or _is_map(item), "an ARRAY or a MAP"
    )
    return t.INT


def _cardinality(invocation: Invocation, args: Sequence[Value]) -> Value:
    if any_null_scalar(args):
        return None
    return map_rows(invocation, len, args)


def _element_of(name: str) -> Callable[[Sequence[DataType], Options], DataType]:
    def infer(types: Sequence[DataType], options: Options) -> DataType:
        expect(name, types, 0, _is_array, "an ARRAY")
        element = types[0].element
        return (element or t.NULL).plain().with_nullable(True)

    return infer


def _infer_element(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("ELEMENT", types, 1)
    return _element_of("ELEMENT")(types, options)


def _element(invocation: Invocation, args: Sequence[Value]) -> Value:
    """ELEMENT(array): the only element, NULL for an empty array.

    NOTE: an array with more than one element gives NULL; Flink fails the job.
    """
    if any_null_scalar(args):
        return None
    return map_rows(invocation, lambda array: array[0] if len(array) == 1 else None, args)


def _infer_array(types: Sequence[DataType], options: Options) -> DataType:
    if not types:
        raise ArgumentTypeError("ARRAY[] needs at least one element")
    return t.array(common_result_type("ARRAY", types, range(len(types))))


def _rows(invocation: Invocation, args: Sequence[Value]) -> list[tuple[Any, ...]]:
    columns = [to_objects(arg, invocation.length) for arg in args]
    return list(zip(*columns, strict=True)) if columns else [() for _ in range(invocation.length)]


def _array(invocation: Invocation, args: Sequence[Value]) -> Value:
    return objects_to_series(
        [list(row) for row in _rows(invocation, args)], invocation.result_type, invocation.index
    )


def _infer_map(types: Sequence[DataType], options: Options) -> DataType:
    if not types or len(types) % 2:
        raise ArgumentTypeError("MAP[...] needs key, value pairs")
    keys = common_result_type("MAP", types[0::2], range(0, len(types), 2))
    values = common_result_type("MAP", types[1::2], range(1, len(types), 2))
    return t.map_of(keys, values)


def _map(invocation: Invocation, args: Sequence[Value]) -> Value:
    mappings = [dict(zip(row[0::2], row[1::2], strict=True)) for row in _rows(invocation, args)]
    return objects_to_series(mappings, invocation.result_type, invocation.index)


def _infer_row(types: Sequence[DataType], options: Options) -> DataType:
    names = options.get("names") or tuple(f"EXPR${position}" for position in range(len(types)))
    if len(names) != len(types):
        raise ArgumentTypeError(f"ROW has {len(types)} values for {len(names)} field names")
    return t.row(
        (name, item.plain().with_nullable(True)) for name, item in zip(names, types, strict=True)
    )


def _row(invocation: Invocation, args: Sequence[Value]) -> Value:
    names = [field.name for field in invocation.result_type.fields]
    rows = [dict(zip(names, row, strict=True)) for row in _rows(invocation, args)]
    return objects_to_series(rows, invocation.result_type, invocation.index)


def _infer_array_contains(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("ARRAY_CONTAINS", types, 2)
    expect("ARRAY_CONTAINS", types, 0, _is_array, "an ARRAY")
    if types[0].element is not None:
        check_comparable("ARRAY_CONTAINS", types[0].element, types[1], ordering=False)
    return t.BOOLEAN


def _array_contains(invocation: Invocation, args: Sequence[Value]) -> Value:
    """ARRAY_CONTAINS(array, value): NULL for a NULL array; a NULL value looks for NULL elements."""
    arrays = to_objects(args[0], invocation.length)
    needles = to_objects(args[1], invocation.length)
    results = [
        None if array is None else needle in list(array)
        for array, needle in zip(arrays, needles, strict=True)
    ]
    return objects_to_series(results, t.BOOLEAN, invocation.index)


def _infer_map_part(name: str) -> Callable[[Sequence[DataType], Options], DataType]:
    def infer(types: Sequence[DataType], options: Options) -> DataType:
        expect_count(name, types, 1)
        expect(name, types, 0, _is_map, "a MAP")
        part = types[0].key if name == "MAP_KEYS" else types[0].value
        return t.array((part or t.NULL).plain())

    return infer


def _map_part(keys: bool) -> Callable[[Invocation, Sequence[Value]], Value]:
    def implementation(invocation: Invocation, args: Sequence[Value]) -> Value:
        if any_null_scalar(args):
            return None
        return map_rows(
            invocation, lambda mapping: list(mapping.keys() if keys else mapping.values()), args
        )

    return implementation


def _infer_array_join(types: Sequence[DataType], options: Options) -> DataType:
    expect_count("ARRAY_JOIN", types, 2, 3)
    expect(
        "ARRAY_JOIN",
        types,
        0,
        lambda item: _is_array(item) and (item.element is None or is_string(item.element)),
        "an ARRAY<STRING>",
    )
    for position in (1, 2):
        expect("ARRAY_JOIN", types, position, is_string, "a string", expected=t.STRING)
    return t.STRING


def _array_join(invocation: Invocation, args: Sequence[Value]) -> Value:
    """ARRAY_JOIN(array, delimiter[, null_replacement]): skips NULL elements unless replaced."""
    if any_null_scalar(args[:2]):
        return None
    arrays = to_objects(args[0], invocation.length)
    delimiters = to_objects(args[1], invocation.length)
    replacements = (
        to_objects(args[2], invocation.length) if len(args) > 2 else [None] * invocation.length
    )
    results: list[str | None] = []
    for array, delimiter, replacement in zip(arrays, delimiters, replacements, strict=True):
        if array is None or delimiter is None:
            results.append(None)
            continue
        items = [str(item) if item is not None else replacement for item in array]
        results.append(delimiter.join(item for item in items if item is not None))
    return objects_to_series(results, t.STRING, invocation.index)


FUNCTIONS = [
    ScalarFunction("FIELD", infer_field, _field, "row.field", "A field of a ROW value."),
    ScalarFunction("ITEM", _infer_item, _item, "array[index], map[key]"),
    ScalarFunction("CARDINALITY", _infer_cardinality, _cardinality, "CARDINALITY(array | map)"),
    ScalarFunction("ELEMENT", _infer_element, _element, "ELEMENT(array)"),
    ScalarFunction("ARRAY", _infer_array, _array, "ARRAY[value1, ...]"),
    ScalarFunction("MAP", _infer_map, _map, "MAP[key1, value1, ...]"),
    ScalarFunction("ROW", _infer_row, _row, "ROW(value1, ...)"),
    ScalarFunction(
        "ARRAY_CONTAINS", _infer_array_contains, _array_contains, "ARRAY_CONTAINS(array, value)"
    ),
    ScalarFunction("MAP_KEYS", _infer_map_part("MAP_KEYS"), _map_part(True), "MAP_KEYS(map)"),
    ScalarFunction(
        "MAP_VALUES", _infer_map_part("MAP_VALUES"), _map_part(False), "MAP_VALUES(map)"
    ),
    ScalarFunction(
        "ARRAY_JOIN",
        _infer_array_join,
        _array_join,
        "ARRAY_JOIN(array, delimiter[, null_replacement])",
    ),
]
