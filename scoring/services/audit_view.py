"""The audit log in words: action names as the interface language says them, changes as lines.

The log stores the raw action key and JSON old/new values, and the CSV keeps them so; the page
shows each action in words and each change as "key: old → new" lines, so that an organiser
reads what happened without decoding JSON. ``KNOWN_ACTIONS`` is the one list of what the code
records; a test compares it with the source, so a new action cannot ship without its words.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from scoring.beijing_time import BEIJING
from scoring.i18n import catalogue

KNOWN_ACTIONS: tuple[str, ...] = (
    "account.active",
    "account.change_password",
    "account.create",
    "account.locked",
    "account.reset_password",
    "account.role",
    "applicant.link",
    "applicant.unlink",
    "assignment.create",
    "assignment.delete",
    "award.override",
    "award.override_cleared",
    "award.quota",
    "award.tie",
    "campaign.casebook",
    "campaign.certificates",
    "campaign.create",
    "campaign.export",
    "campaign.finalise",
    "campaign.notice_publish",
    "campaign.notice_withdraw",
    "campaign.unfinalise",
    "campaign.update",
    "conflict.declare",
    "entries.import",
    "entry.add",
    "entry.import",
    "entry.status",
    "entry.update",
    "meeting.close",
    "meeting.open",
    "panel.lock",
    "panel.unlock",
    "public.configure",
    "reminders.result",
    "reminders.send",
    "sheet.save",
    "sheet.withdrawn",
    "votes.import",
    "votes.void",
)
"""Every action name the code records (``audit.record``, ``audit.event``, bulk batches)."""

LIST_SHOWN = 5
"""Items of a list shown before it is summarised: a 300-entry import is one line, not 300."""
TEXT_SHOWN = 200
"""Characters of one value shown; the CSV holds the value whole."""
ARROW = " → "


def action_label(action: str, lang: str) -> str:
    """The action in words in ``lang``; an action without words shows as its raw name."""
    return catalogue(lang).get(f"audit_words.action.{action}", action)


def actions_matching(words: str, lang: str, recorded: list[str]) -> list[str]:
    """The recorded actions whose words (or raw name) contain ``words``, case-insensitively."""
    wanted = words.strip().casefold()
    if not wanted:
        return []
    return [
        a for a in recorded if wanted in action_label(a, lang).casefold() or wanted in a.casefold()
    ]


def _short(value: Any) -> str:
    """One value as one line of text: lists summarised, long text cut."""
    if value is None:
        return "∅"
    if isinstance(value, list) and len(value) > LIST_SHOWN:
        head = ", ".join(_short(v) for v in value[:LIST_SHOWN])
        text = f"[{head}, … +{len(value) - LIST_SHOWN}] ({len(value)})"
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False)
    text = " ".join(text.splitlines())
    return text if len(text) <= TEXT_SHOWN else text[: TEXT_SHOWN - 1] + "…"


def describe_change(old: Any, new: Any) -> list[str]:
    """The change from ``old`` to ``new`` as lines a person reads.

    Two dicts give one line per key that differs, in key order: "key: old → new", "+ key: new"
    for an added key, "− key: old" for a removed one; keys that did not change are left out.
    Anything else is one line "old → new" (or just the value when only one side exists).
    Values are returned as text as typed: the caller shows them literally.
    """
    if isinstance(old, dict) or isinstance(new, dict):
        old, new = ({} if old is None else old), ({} if new is None else new)
    if isinstance(old, dict) and isinstance(new, dict):
        lines = []
        for key in sorted(set(old) | set(new), key=str):
            if key not in old:
                lines.append(f"+ {key}: {_short(new[key])}")
            elif key not in new:
                lines.append(f"− {key}: {_short(old[key])}")
            elif old[key] != new[key]:
                lines.append(f"{key}: {_short(old[key])}{ARROW}{_short(new[key])}")
        return lines
    if old is None and new is None:
        return []
    if old is None:
        return [_short(new)]
    if new is None:
        return [f"{_short(old)}{ARROW}∅"]
    if old == new:
        return []
    return [f"{_short(old)}{ARROW}{_short(new)}"]


def beijing_days(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """The UTC instants bounding Beijing days ``first`` to ``last``, both whole days included.

    Organisers think in Beijing dates; the log stores UTC. The end is exclusive: midnight
    Beijing time after ``last``.
    """
    since = datetime.combine(first, time(), BEIJING).astimezone(UTC) if first else None
    until = (
        datetime.combine(last + timedelta(days=1), time(), BEIJING).astimezone(UTC)
        if last
        else None
    )
    return since, until
