"""`daily-post` (每日发布): at each send slot (08:00, 12:00, 18:00 Asia/Shanghai), one message per account with
an approved post on the `posts` queue; a worker sends it exactly once (`services.post_delivery`)."""
from __future__ import annotations

from chalicelib import clock
from chalicelib.services import post_delivery

QUEUE = post_delivery.QUEUE


def fan_out(day: str | None = None) -> dict:
    """Scheduled entry; `day` (YYYY-MM-DD) runs a named day with every slot due (a catch-up)."""
    return post_delivery.enqueue_day(clock.now(), post_delivery.named_day(day))


def send(message: dict) -> None:
    """Queue entry for one message: {account_id, day, post_id, account_type, community_id}."""
    post_delivery.send_post(message)


give_up = post_delivery.give_up
