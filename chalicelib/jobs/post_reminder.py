"""`post-reminder` (发稿提醒): at 17:00 Asia/Shanghai, communities with no approved post for tomorrow are told
(their social workers and director get a staff notice)."""
from __future__ import annotations

from datetime import date

from chalicelib import clock
from chalicelib.domain.errors import PermanentFailure
from chalicelib.services import post_delivery


def remind(day: str | None = None) -> dict:
    try:
        target = date.fromisoformat(day) if day else None
    except ValueError as exc:
        raise PermanentFailure(f"day must be YYYY-MM-DD: {exc}") from exc
    return post_delivery.remind(clock.now(), target)
