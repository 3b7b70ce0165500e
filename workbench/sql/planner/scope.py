"""Name resolution: which column of which input a SQL identifier means."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from sqlglot import exp

from workbench.errors import UnknownColumnError, ValidationError
from workbench.events.schema import Schema
from workbench.events.types import DataType
from workbench.sql.parser import node_position


@dataclass(frozen=True)
class ScopeColumn:
    """A visible column: its SQL name, the qualifier that may prefix it, and its frame name."""

    name: str
    internal: str
    type: DataType
    qualifier: str | None = None


@dataclass
class Scope:
    """The columns visible in a query block, in order."""

    columns: list[ScopeColumn] = field(default_factory=list)

    @classmethod
    def of(cls, schema: Schema, qualifier: str | None) -> Scope:
        return cls([ScopeColumn(c.name, c.name, c.type, qualifier) for c in schema.columns])

    @property
    def qualifiers(self) -> set[str]:
        return {column.qualifier for column in self.columns if column.qualifier}

    def requalify(self, qualifier: str | None) -> Scope:
        return Scope([ScopeColumn(c.name, c.internal, c.type, qualifier) for c in self.columns])

    def find(self, name: str, qualifier: str | None = None) -> list[ScopeColumn]:
        """Return the columns ``name`` may mean: exact case first, then ignoring case."""
        candidates = [
            c for c in self.columns if qualifier is None or _same_name(c.qualifier, qualifier)
        ]
        exact = [c for c in candidates if c.name == name]
        if exact:
            return exact
        return [c for c in candidates if c.name.lower() == name.lower()]

    def resolve(self, node: exp.Column, script: str) -> tuple[ScopeColumn, list[str]]:
        """Return the column a (possibly qualified, possibly nested) reference means.

        ``a.b.c`` may be column ``b`` of input ``a`` with field ``c``, or column
        ``a`` with fields ``b.c``; the qualifier reading wins when both exist.
        The second value is the path of ROW fields to follow.
        """
        parts = [part.name for part in node.parts]
        if len(parts) >= 2 and any(_same_name(parts[0], q) for q in self.qualifiers):
            found = self.find(parts[1], parts[0])
            if found:
                return self._unique(found, parts[1], node, script), parts[2:]
        found = self.find(parts[0])
        if found:
            return self._unique(found, parts[0], node, script), parts[1:]
        raise self.unknown(parts, node, script)

    def _unique(
        self, found: list[ScopeColumn], name: str, node: exp.Expr, script: str
    ) -> ScopeColumn:
        if len(found) > 1:
            qualifiers = sorted({c.qualifier for c in found if c.qualifier})
            if len(qualifiers) == len(found):
                where = f"it exists in {', '.join(qualifiers)}"
                hint = f"qualify it, for example {qualifiers[0]}.{name}"
            else:
                # Qualifying cannot tell columns of one input apart: they need new names.
                where = f"{len(found)} columns of the input have this name"
                hint = "give the columns distinct names, with AS in the subquery or a column list"
            raise ValidationError(
                f"column {name!r} is ambiguous: {where}",
                sql=script,
                position=node_position(script, node),
                hint=hint,
            )
        return found[0]

    def unknown(self, parts: list[str], node: exp.Expr, script: str) -> UnknownColumnError:
        name = parts[1] if len(parts) >= 2 and parts[0] in self.qualifiers else parts[0]
        names = [c.name for c in self.columns]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        if close:
            hint = f"did you mean {close[0]!r}?"
        elif names:
            hint = "available columns: " + ", ".join(dict.fromkeys(names))
        else:
            hint = None
        return UnknownColumnError(
            f"column {'.'.join(parts)!r} not found",
            sql=script,
            position=node_position(script, node),
            hint=hint,
        )


def _same_name(left: str | None, right: str | None) -> bool:
    if left is None or right is None:
        return False
    return left == right or left.lower() == right.lower()


def unique_names(names: list[str]) -> list[str]:
    """Make output names unique the way Flink does: a, a0, a1, ..."""
    seen: dict[str, int] = {}
    result: list[str] = []
    taken = set()
    for name in names:
        candidate = name
        if candidate in taken:
            counter = seen.get(name, 0)
            while f"{name}{counter}" in taken:
                counter += 1
            candidate = f"{name}{counter}"
            seen[name] = counter + 1
        taken.add(candidate)
        result.append(candidate)
    return result
