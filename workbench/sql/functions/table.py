"""User-defined table functions: Python functions that return rows for one input row.

A query calls one in a lateral join, as in Flink:
``FROM t, LATERAL TABLE(f(t.x)) AS s (a, b)``. The planner finds the
definition by name in the session's :class:`FunctionRegistry`, and the
runtime looks the callable up by name with :func:`user_table_function`, so
plans hold names only.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from workbench.events.types import DataType, TypeKind
from workbench.sql.sqltypes import parse_type

#: The output declaration of a table function: ``'ROW<word STRING, length INT>'``,
#: a mapping of column name to type, or one type for a single column named f0.
Returns = str | DataType | Mapping[str, str | DataType]


@dataclass(frozen=True)
class TableFunctionDef:
    """A user table function: its name, its callable, and its output columns and types."""

    name: str
    func: Callable[..., Iterable[Any] | None]
    columns: tuple[str, ...]
    types: tuple[DataType, ...]

    def accepts(self, count: int) -> str | None:
        """Return why the function cannot take ``count`` arguments, or None when it can.

        A callable whose signature cannot be read (a builtin) accepts any count.
        """
        try:
            inspect.signature(self.func).bind(*([None] * count))
        except TypeError as error:
            return str(error)
        except ValueError:
            return None
        return None

    def signature(self) -> str:
        fields = ", ".join(
            f"{name} {kind.sql()}" for name, kind in zip(self.columns, self.types, strict=True)
        )
        return f"{self.name}(...) -> TABLE<{fields}>"


# Table functions registered on any registry, by name, for the runtime (the most
# recent one of a name wins, as for user scalar functions).
_USER_TABLE_FUNCTIONS: dict[str, TableFunctionDef] = {}


def define_table_function(
    name: str, func: Callable[..., Iterable[Any] | None], returns: Returns
) -> TableFunctionDef:
    """Check a table function's name and output declaration; return its definition.

    Raises ValueError for an invalid name, a type that does not parse, or no
    output columns.
    """
    canonical = name.upper()
    if not canonical.replace("_", "").isalnum() or canonical[0].isdigit():
        raise ValueError(f"invalid function name {name!r}: use letters, digits and underscores")
    if not callable(func):
        raise ValueError(f"table function {name!r} needs a callable, not {type(func).__name__}")
    columns: list[str] = []
    types: list[DataType] = []
    if isinstance(returns, Mapping):
        for column, kind in returns.items():
            columns.append(str(column))
            types.append(parse_type(kind) if isinstance(kind, str) else kind)
    else:
        kind = parse_type(returns) if isinstance(returns, str) else returns
        if kind.kind is TypeKind.ROW:
            columns = [field.name for field in kind.fields]
            types = [field.type for field in kind.fields]
        else:
            # Flink names the single column of a table function with an atomic type f0.
            columns, types = ["f0"], [kind]
    if not columns:
        raise ValueError(
            f"table function {name!r} declares no output columns: "
            "give returns='ROW<word STRING, length INT>' or a mapping of names to types"
        )
    return TableFunctionDef(
        canonical, func, tuple(columns), tuple(kind.with_nullable(True) for kind in types)
    )


def remember_table_function(definition: TableFunctionDef) -> None:
    """Make ``definition`` available to the runtime under its name."""
    _USER_TABLE_FUNCTIONS[definition.name] = definition


def user_table_function(name: str) -> TableFunctionDef | None:
    """Return the most recently registered table function called ``name``, if any."""
    return _USER_TABLE_FUNCTIONS.get(name.upper())
