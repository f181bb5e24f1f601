"""What a save does to a score sheet, as pure functions over values already read.

A reviewer's save writes one sheet; a paper-marks import writes tens of thousands in one
transaction and cannot afford a query per sheet. Both must apply the same rules, so the
rules live here, free of any session: a sheet keeps its panel, a submitted sheet stays
submitted, new points merge into the old ones, a submission must be complete, and a save is
audited only when it changes the points or the status, with the same old and new values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

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


MAX_REASON_CHARS = 500
"""A criterion's reason is one line of at most this many characters, on the page (its box)
and in a scores file alike: a longer or multi-line one imported would be cut by the box at
the reviewer's next save."""


def merged_comments(
    before: Mapping[str, str], given: Mapping[str, str], points: Mapping[str, float]
) -> dict[str, str]:
    """A sheet's per-criterion comments after a save: ``given`` over ``before``.

    A criterion left out of ``given`` keeps its comment, an empty one given removes it, and
    a criterion whose points are removed takes its comment along (unless one is given now,
    which ``check_comments`` then refuses as a comment without points).
    """
    given = {key: (text or "").strip() for key, text in given.items()}
    return {
        key: text
        for key, text in {**before, **given}.items()
        if text and (points.get(key) is not None or key in given)
    }


def sheet_change(
    outcome: SheetOutcome, comments_before: Mapping[str, str], comments: Mapping[str, str]
) -> tuple[dict | None, dict] | None:
    """The audit's old and new values of a save, or None when it changed nothing.

    The comments appear only when they changed, so the record of a save without comments
    reads as it always did.
    """
    comments_changed = dict(comments_before) != dict(comments)
    if not (outcome.changed or comments_changed):
        return None
    old, new = outcome.audit_old, outcome.audit_new
    if comments_changed:
        old = {**old, "comments": dict(comments_before)} if old else old
        new = {**new, "comments": dict(comments)}
    return old, new


#: The share of a criterion's range at either end that asks for a comment, when the campaign
#: says so (``Campaign.comment_at_extremes``): 27 or more of 30, or 3 or less.
EXTREME_SHARE = 0.1


class _Ranged(Protocol):
    """Anything with a criterion's maximum: a ``Criterion``, a ``RubricItem``, a view."""

    max_points: float


def needs_comment(criterion: _Ranged, points: float | None, at_extremes: bool) -> bool:
    """Whether ``points`` on ``criterion`` need that criterion's comment before a submission.

    The one home of the rule: the save refuses a submission without the comment, and the
    score page marks the box as required with the same call. ``at_extremes`` is the
    campaign's ``comment_at_extremes``. A score in the top or bottom tenth of the range
    (``>= 0.9 * max`` or ``<= 0.1 * max``) is the one a panel asks a reviewer to justify.
    """
    if not at_extremes or points is None:
        return False
    edge = EXTREME_SHARE * criterion.max_points
    return points >= criterion.max_points - edge - 1e-9 or points <= edge + 1e-9


def comments_missing(
    criteria: Sequence[Any],
    points: Mapping[str, float | None],
    comments: Mapping[str, str],
    at_extremes: bool,
) -> list[str]:
    """The names of the criteria whose points need a comment they do not have yet.

    The save refuses a submission while this is not empty; the score page uses it to say so
    before the reviewer presses submit.
    """
    return [
        c.name
        for c in criteria
        if needs_comment(c, points.get(c.key), at_extremes)
        and not (comments.get(c.key) or "").strip()
    ]


def level_for(levels: Sequence[Mapping[str, Any]], points: float | None) -> str | None:
    """The label of the level descriptor whose range holds ``points`` (None outside all)."""
    if points is None:
        return None
    for level in levels:
        if level["low"] - 1e-9 <= points <= level["high"] + 1e-9:
            return str(level["label"])
    return None


def check_comments(
    criteria: Sequence[RubricItem],
    points: Mapping[str, float],
    comments: Mapping[str, str],
    *,
    at_extremes: bool,
    submitted: bool,
    code: str,
) -> None:
    """Refuse a comment without points (it has nowhere to live), and a submission whose
    extreme scores lack their comment (``needs_comment``); every criterion named at once.

    A draft may lack the comments: it does not count, and the reviewer may still be writing.
    """
    orphans = [c.name for c in criteria if comments.get(c.key) and points.get(c.key) is None]
    if orphans:
        raise ValidationFailed("guidance.comment_without_points", criteria="、".join(orphans))
    if not submitted:
        return
    missing = comments_missing(criteria, points, comments, at_extremes)
    if missing:
        raise ValidationFailed("guidance.comment_required", code=code, criteria="、".join(missing))
