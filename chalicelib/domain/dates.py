"""Time rules of the platform: store UTC, show and reason in Asia/Shanghai (北京时间)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def local_date(moment: datetime) -> date:
    """The calendar day in Shanghai of an aware moment."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the platform only handles timezone-aware moments")
    return moment.astimezone(SHANGHAI).date()


def yesterday(moment: datetime) -> date:
    return local_date(moment) - timedelta(days=1)


def shanghai_iso(moment: datetime) -> str:
    """ISO 8601 with +08:00, as residents, staff and Open311 partners see times."""
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")
