"""`post-reminder` (发稿提醒): at 17:00 Asia/Shanghai, communities with no approved post for tomorrow are told
(their social workers and director get a staff notice)."""
from __future__ import annotations

from chalicelib import clock
from chalicelib.services import post_delivery


def remind(day: str | None = None) -> dict:
    return post_delivery.remind(clock.now(), post_delivery.named_day(day))
