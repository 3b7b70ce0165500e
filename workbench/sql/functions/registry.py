"""The function registry: built-in scalar functions and user-defined ones."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.events.types import DataType
from workbench.sql.functions.base import (
    Invocation,
    Options,
    ScalarFunction,
    Value,
    broadcast,
    dtype_of,
    is_series,
    map_rows,
    objects_to_series,
)
from workbench.sql.functions.catalog import builtin_functions
from workbench.sql.functions.table import (
    Returns,
    TableFunctionDef,
    define_table_function,
    remember_table_function,
)
from workbench.sql.sqltypes import parse_type

logger = logging.getLogger("workbench")

#: Aggregate functions: the planner substitutes them, a scalar context rejects them.
AGGREGATE_NAMES = frozenset(
    {
        "COUNT",
        "SUM",
        "SUM0",
        "AVG",
        "MIN",
        "MAX",
        "STDDEV",
        "STDDEV_POP",
        "STDDEV_SAMP",
        "VARIANCE",
        "VAR",
        "VAR_POP",
        "VAR_SAMP",
        "FIRST_VALUE",
        "LAST_VALUE",
        "LISTAGG",
        "STRING_AGG",
        "GROUP_CONCAT",
        "COLLECT",
        "COLLECT_LIST",
        "ARRAY_AGG",
        "PERCENTILE",
        "APPROX_PERCENTILE",
        "PERCENTILE_APPROX",
        "APPROX_COUNT_DISTINCT",
        "BOOL_AND",
        "BOOL_OR",
        "EVERY",
        "SOME",
        "JSON_ARRAYAGG",
        "JSON_OBJECTAGG",
    }
)

#: Functions that only exist with an OVER clause or in MATCH_RECOGNIZE.
WINDOW_FUNCTION_NAMES = frozenset(
    {
        "ROW_NUMBER",
        "RANK",
        "DENSE_RANK",
        "PERCENT_RANK",
        "CUME_DIST",
        "NTILE",
        "LEAD",
        "LAG",
        "PREV",
        "NEXT",
        "FIRST",
        "LAST",
        "CLASSIFIER",
        "MATCH_NUMBER",
        "MATCH_ROWTIME",
        "MATCH_PROCTIME",
    }
)

# User functions registered on any registry, by name, so that evaluation finds
# them when the caller does not pass its registry (the most recent one wins).
_USER_FUNCTIONS: dict[str, ScalarFunction] = {}


class FunctionRegistry:
    """Scalar functions by canonical upper-case name.

    ``FunctionRegistry()`` starts with every built-in function;
    ``FunctionRegistry(builtins=False)`` starts empty.
    """

    def __init__(self, functions: Iterable[ScalarFunction] = (), *, builtins: bool = True) -> None:
        self._functions: dict[str, ScalarFunction] = {}
        self._table_functions: dict[str, TableFunctionDef] = {}
        if builtins:
            for function in builtin_functions():
                self._functions[function.name] = function
        for function in functions:
            self.add(function)

    def add(self, function: ScalarFunction) -> None:
        """Add or replace a function under its (upper-case) name."""
        self._functions[function.name.upper()] = function

    def get(self, name: str) -> ScalarFunction | None:
        return self._functions.get(name.upper())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.upper() in self._functions

    def __iter__(self) -> Iterator[ScalarFunction]:
        return iter(self._functions.values())

    def __len__(self) -> int:
        return len(self._functions)

    def names(self) -> list[str]:
        """Return the function names in alphabetical order, for SHOW FUNCTIONS."""
        return sorted(self._functions)

    def copy(self) -> FunctionRegistry:
        copied = FunctionRegistry(self._functions.values(), builtins=False)
        copied._table_functions = dict(self._table_functions)
        return copied

    def register_table_function(
        self, name: str, func: Callable[..., Iterable[Any] | None], returns: Returns
    ) -> TableFunctionDef:
        """Add a user-defined table function (see :func:`define_table_function`)."""
        definition = define_table_function(name, func, returns)
        self._table_functions[definition.name] = definition
        remember_table_function(definition)
        return definition

    def table_function(self, name: str) -> TableFunctionDef | None:
        return self._table_functions.get(name.upper())

    def table_function_names(self) -> list[str]:
        return sorted(self._table_functions)

    def infer(
        self, name: str, arg_types: Sequence[DataType], options: Options | None = None
    ) -> DataType:
        """Return the result type of ``name`` applied to ``arg_types``.

        Raises KeyError for an unknown function and ArgumentTypeError for
        arguments the function cannot take.
        """
        function = self.get(name)
        if function is None:
            raise KeyError(name)
        return function.infer(arg_types, dict(options or {}))

    def register_scalar(
        self,
        name: str,
        func: Callable[..., Any],
        result_type: DataType | str,
        *,
        vectorized: bool = True,
    ) -> ScalarFunction:
        """Add a user-defined scalar function written in Python.

        A vectorized ``func`` receives one ``pd.Series`` per argument (literals
        are repeated on every row) and returns a Series or array of the same
        length. Otherwise ``func`` is called once per row with Python values,
        and a row with a NULL argument gives NULL without calling it.
        """
        if isinstance(result_type, str):
            result_type = parse_type(result_type)
        canonical = name.upper()
        if not canonical.replace("_", "").isalnum() or canonical[0].isdigit():
            raise ValueError(f"invalid function name {name!r}: use letters, digits and underscores")
        declared = result_type

        def infer(arg_types: Sequence[DataType], options: Options) -> DataType:
            del arg_types, options
            return declared

        implementation = _vectorized_udf(canonical, func) if vectorized else _row_udf(func)
        function = ScalarFunction(
            name=canonical,
            infer=infer,
            implementation=implementation,
            signature=f"{canonical}(...) -> {declared.sql()}",
            description=(func.__doc__ or "").strip().split("\n")[0],
            guarded=True,
            builtin=False,
        )
        if canonical in self._functions and self._functions[canonical].builtin:
            logger.warning(
                "user function %s replaces the built-in function of that name", canonical
            )
        self.add(function)
        _USER_FUNCTIONS[canonical] = function
        return function


def user_function(name: str) -> ScalarFunction | None:
    """Return the most recently registered user function called ``name``, if any."""
    return _USER_FUNCTIONS.get(name.upper())


def _vectorized_udf(name: str, func: Callable[..., Any]) -> Callable[[Invocation, Any], Value]:
    def implementation(invocation: Invocation, args: Sequence[Value]) -> Value:
        columns = [
            invocation.broadcast(arg, arg_type)
            for arg, arg_type in zip(args, invocation.arg_types, strict=True)
        ]
        result = func(*columns)
        if np.isscalar(result) or result is None:
            return broadcast(result, invocation.result_type, invocation.length, invocation.index)
        values = result.array if is_series(result) else result
        if len(values) != invocation.length:
            raise ValueError(
                f"user function {name} returned {len(values)} values for {invocation.length} rows"
            )
        if invocation.result_type.pandas_dtype() == "object":
            return objects_to_series(list(values), invocation.result_type, invocation.index)
        return pd.Series(values, index=invocation.index).astype(dtype_of(invocation.result_type))

    return implementation


def _row_udf(func: Callable[..., Any]) -> Callable[[Invocation, Any], Value]:
    def implementation(invocation: Invocation, args: Sequence[Value]) -> Value:
        return map_rows(invocation, func, args)

    return implementation
