"""The result of planning a query."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.sql.plan import PlanNode, Presentation
from workbench.sql.planner.scope import Scope


@dataclass
class Planned:
    """A planned query: its plan, its output columns, and its ORDER BY/LIMIT."""

    node: PlanNode
    scope: Scope
    presentation: Presentation | None = None

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.scope.columns]
