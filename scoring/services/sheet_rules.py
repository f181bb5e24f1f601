"""What a save does to a score sheet, as pure functions over values already read.

A reviewer's save writes one sheet; a paper-marks import writes tens of thousands in one
transaction and cannot afford a query per sheet. Both must apply the same rules, so the
rules live here, free of any session: a sheet keeps its panel, a submitted sheet stays
submitted, new points merge into the old ones, a submission must be complete, and a save is
audited only when it changes the points or the status, with the same old and new values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scoring.errors import Names, ValidationFailed
from scoring.storage.models import Criterion


@dataclass(frozen=True)
class RubricItem:
    """A criterion's values as plain attributes, read once per save as a row, not an object.

    Everything a save or an import checks and totals reads these (``point_problem``,
    ``total_of``); an ORM ``Criterion`` would cost a loaded, tracked object per criterion per
    save, and an import reads them millions of times through instrumented attributes.
    """

    id: int
    key: str
    name: str
    max_points: float
    step: float

    @classmethod
    def of(cls, criterion: Criterion) -> RubricItem:
        return cls(
            criterion.id, criterion.key, criterion.name, criterion.max_points, criterion.step
        )  # type: ignore[arg-type]


def check_same_panel(sheet_panel: str | None, panel: str, code: str) -> None:
    """A sheet stays in the panel it was scored in (a reviewer's role may have changed since)."""
    if sheet_panel is not None and sheet_panel != panel:
        raise ValidationFailed(
            "sheet.panel_changed", panel=Names("panel", (sheet_panel,)), code=code
        )


@dataclass(frozen=True)
class SheetOutcome:
    """The sheet after a save: its points, its status, and the audit values when it changed."""

    points: dict[str, float]
    status: str
    audit_old: Any
    audit_new: Any
    changed: bool

    @property
    def submitted(self) -> bool:
        return self.status == "submitted"


def sheet_outcome(
    criteria: list[Criterion],
    old_points: Mapping[str, float],
    old_status: str | None,
    points: Mapping[str, float | None],
    *,
    submit: bool,
) -> SheetOutcome:
    """Merge ``points`` into the sheet as it was (``old_status`` None: no sheet yet).

    A submitted sheet stays submitted, so a later save is a revision of the submission and
    must be complete (``sheet.incomplete`` otherwise); ``None`` removes a criterion's points.
    """
    # Imported here: sheets.py calls into this module, so a module-level import would loop.
    from scoring.services.sheets import total_of

    submit = submit or old_status == "submitted"
    merged = {**old_points, **{k: v for k, v in points.items() if v is not None}}
    for key, value in points.items():
        if value is None:
            merged.pop(key, None)
    if submit and total_of(criteria, merged) is None:
        missing = [c.name for c in criteria if merged.get(c.key) is None]
        raise ValidationFailed("sheet.incomplete", missing="、".join(missing))
    status = "submitted" if submit else "draft"
    changed = old_points != merged or old_status != status
    return SheetOutcome(
        points=merged,  # type: ignore[arg-type]
        status=status,
        audit_old={"status": old_status, "points": dict(old_points)} if old_status else None,
        audit_new={"status": status, "points": merged},
        changed=changed,
    )
