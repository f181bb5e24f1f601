"""The one clock the public sees: Beijing time (Asia/Shanghai), and stored times made aware.

Every stored timestamp is UTC (``scoring.storage.models.utcnow``), but SQLite hands them back
without their zone and PostgreSQL with it. Voting days, voting windows, notices, certificates
and the export's void times are read by people in China, so they are shown in Beijing time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def stored_utc(moment: datetime | None) -> datetime | None:
    """A time read back from the database, aware UTC whichever database gave it (or None)."""
    if moment is None:
        return None
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=UTC)


def in_beijing(moment: datetime) -> datetime:
    """A stored (UTC) time as Beijing wall-clock time, aware."""
    return (moment if moment.utcoffset() is not None else moment.replace(tzinfo=UTC)).astimezone(
        BEIJING
    )
