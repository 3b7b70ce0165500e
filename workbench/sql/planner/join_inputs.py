"""The columns two join inputs share once joined."""

from __future__ import annotations

from workbench.sql.plan import PlanNode
from workbench.sql.planner.scope import Scope, ScopeColumn, unique_names


def combine_inputs(
    left: PlanNode, left_scope: Scope, right: PlanNode, right_scope: Scope
) -> tuple[Scope, tuple[str, ...], set[str], set[str]]:
    """Return the scope of both inputs, the right input's output names and each side's names."""
    right_names = tuple(
        unique_names([*left.schema.names, *right.schema.names])[len(left.schema.names) :]
    )
    renamed = dict(zip(right.schema.names, right_names, strict=True))
    combined = Scope(
        [*left_scope.columns]
        + [
            ScopeColumn(c.name, renamed.get(c.internal, c.internal), c.type, c.qualifier)
            for c in right_scope.columns
        ]
    )
    return combined, right_names, set(left.schema.names), set(right_names)
