"""The steps of the announcement on stage: a step number in, what the projector shows out.

The ceremony is driven by keys (→, space, ←) that only ever move a step number; every
number, however far past either end, maps to a step that can be drawn, so no key press can
put a traceback on the projector. Groups without winners are skipped, and the last step is
always the close, which carries the snapshot's SHA-256 (or says that this was a rehearsal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

SlideKind = Literal["waiting", "winner", "end", "nothing"]


class Group(Protocol):
    """What a ranking group brings to the stage (`services.announce.WinnerGroup`)."""

    label: str
    winners: Sequence[Any]


@dataclass(frozen=True)
class Slide:
    """One step of the ceremony.

    `waiting`: a group's title before its first winner; `winner`: the group's winners
    revealed so far, the latest last; `end`: the close after the last winner; `nothing`:
    the close of a selection with no winner at all.
    """

    kind: SlideKind
    index: int
    """The step number actually shown (the requested one, clamped)."""
    last: int
    """The number of the last step (the close)."""
    label: str | None = None
    shown: tuple[Any, ...] = ()

    @property
    def latest(self) -> Any | None:
        return self.shown[-1] if self.shown else None

    @property
    def earlier(self) -> tuple[Any, ...]:
        """The group's winners revealed before the latest one, most recent first."""
        return tuple(reversed(self.shown[:-1]))


def slides(groups: Sequence[Group]) -> list[Slide]:
    """Every step in order: per group its title then one more winner a step, then the close."""
    found: list[tuple[SlideKind, str | None, tuple[Any, ...]]] = []
    for group in groups:
        winners = tuple(group.winners)
        if not winners:
            continue
        found.append(("waiting", group.label, ()))
        found += [("winner", group.label, winners[:count]) for count in range(1, len(winners) + 1)]
    found.append(("end" if found else "nothing", None, ()))
    last = len(found) - 1
    return [
        Slide(kind=kind, index=index, last=last, label=label, shown=shown)
        for index, (kind, label, shown) in enumerate(found)
    ]


def slide_at(groups: Sequence[Group], step: int) -> Slide:
    """The step to show for a requested step number, clamped to the first and the close."""
    every = slides(groups)
    return every[min(max(step, 0), len(every) - 1)]


def move(groups: Sequence[Group], step: int, by: int) -> int:
    """The step number after a key press (`by` +1 forward, -1 back), never past either end."""
    return slide_at(groups, slide_at(groups, step).index + by).index
