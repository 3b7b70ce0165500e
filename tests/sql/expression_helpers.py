"""Helpers for expression tests: compile SQL text against a small schema and evaluate it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import sqlglot

from workbench.events import types as t
from workbench.events.types import DataType, TimeAttribute
from workbench.sql.dialect import Flink
from workbench.sql.evaluate import EvalContext, evaluate
from workbench.sql.expr import ColumnRef, Expr
from workbench.sql.functions import FunctionRegistry
from workbench.sql.scalar import ScalarCompiler, field_access

#: Columns every expression test may read; ``frame()`` builds matching data.
SCHEMA: dict[str, DataType] = {
    "i": t.INT,
    "n": t.BIGINT,
    "d": t.DOUBLE,
    "m": t.decimal(10, 2),
    "s": t.STRING,
    "flag": t.BOOLEAN,
    "ts": t.timestamp(3),
    "ltz": t.timestamp_ltz(3),
    "day": t.DATE,
    "clock": t.TIME,
    "span": t.INTERVAL,
    "rowtime": t.timestamp(3).with_time_attribute(TimeAttribute.ROWTIME),
    "tags": t.array(t.STRING),
    "nums": t.array(t.INT),
    "attrs": t.map_of(t.STRING, t.INT),
    "person": t.row([("name", t.STRING), ("age", t.INT), ("home", t.row([("city", t.STRING)]))]),
    "raw": t.BINARY,
}

REGISTRY = FunctionRegistry()
NOW_NS = int(pd.Timestamp("2024-03-10 12:34:56.789", tz="UTC").value)


def resolve(column: sqlglot.exp.Column) -> Expr:
    """Resolve ``name`` or ``name.field.field`` against SCHEMA (no table qualifiers)."""
    names = [part.name for part in column.parts]
    expression: Expr = ColumnRef(name=names[0], type=SCHEMA[names[0]])
    for field in names[1:]:
        expression = field_access(expression, field, REGISTRY)
    return expression


def compile_text(text: str, registry: FunctionRegistry | None = None) -> Expr:
    """Compile ``text`` as the only item of a SELECT list."""
    script = "SELECT " + text
    node = sqlglot.parse_one(script, read=Flink).expressions[0]
    return ScalarCompiler(script, registry or REGISTRY, resolve).compile(node)


def frame(**columns: list[Any]) -> pd.DataFrame:
    """Build a frame whose columns have the pandas dtypes of SCHEMA."""
    data: dict[str, pd.Series] = {}
    for name, values in columns.items():
        type = SCHEMA[name]
        dtype: Any = type.pandas_dtype()
        if dtype == "object":
            items = np.empty(len(values), dtype=object)
            items[:] = values
            data[name] = pd.Series(items, dtype=object)
        elif type.kind is t.TypeKind.TIMESTAMP_LTZ:
            data[name] = pd.Series(pd.to_datetime(values, utc=True, format="ISO8601")).astype(dtype)
        elif type.kind in (t.TypeKind.TIMESTAMP, t.TypeKind.DATE):
            data[name] = pd.Series(pd.to_datetime(values, format="ISO8601")).astype(dtype)
        elif type.kind in (t.TypeKind.TIME, t.TypeKind.INTERVAL):
            data[name] = pd.Series(pd.to_timedelta(values)).astype(dtype)
        else:
            data[name] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(data)


def context(time_zone: str = "UTC", **kwargs: Any) -> EvalContext:
    return EvalContext(now_ns=NOW_NS, time_zone=time_zone, **kwargs)


def python_values(series: pd.Series) -> list[Any]:
    """Return a column's values as Python objects, NULL as None."""
    values: list[Any] = []
    for item in series.astype(object).tolist():
        if (
            item is None
            or item is pd.NA
            or item is pd.NaT
            or (isinstance(item, float) and np.isnan(item))
        ):
            values.append(None)
        elif isinstance(item, np.generic):
            values.append(item.item())
        else:
            values.append(item)
    return values


def run(text: str, data: pd.DataFrame | None = None, time_zone: str = "UTC") -> list[Any]:
    """Evaluate ``text`` over ``data`` (one row without columns by default)."""
    rows = data if data is not None else pd.DataFrame(index=range(1))
    return python_values(evaluate(compile_text(text), rows, context(time_zone)))


def value(text: str, time_zone: str = "UTC") -> Any:
    """Evaluate a constant expression and return its single value."""
    return run(text, time_zone=time_zone)[0]


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)
