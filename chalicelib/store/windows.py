"""Counts in fixed time windows (login failures, login requests, residents' 便民纸条), on the counters
table: one item per key and window, `ADD` to count, expiry checked in code (DynamoDB's TTL only cleans up).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.domain.limits import BLOCKED_REPLY, window_start
from chalicelib.store.counters import Counter


def _id(key: str, start: datetime) -> str:
    return f"{key}@{int(start.timestamp())}"


def add(key: str, now: datetime, window: timedelta, amount: int = 1) -> int:
    """Count `amount` in the window holding `now`; the window's new total (one UpdateItem)."""
    start = window_start(now, window)
    counter = Counter(_id(key, start))
    counter.update(actions=[Counter.value.add(amount), Counter.expires_at.set(start + 2 * window)])
    return int(counter.value)


def recent(keys: list[str], now: datetime, window: timedelta) -> dict[str, int]:
    """Per key, the count of this window and the one before (one BatchGetItem)."""
    current = window_start(now, window)
    ids = {(key, _id(key, start)) for key in keys for start in (current, current - window)}
    found = {c.counter_id: c for c in Counter.batch_get([i for _, i in ids])}
    totals = {key: 0 for key in keys}
    for key, counter_id in ids:
        counter = found.get(counter_id)
        if counter is not None and (counter.expires_at is None or counter.expires_at > now):
            totals[key] += int(counter.value or 0)
    return totals


def clear(key: str, now: datetime, window: timedelta) -> None:
    """Forget a key's counts of this window and the one before."""
    current = window_start(now, window)
    for start in (current, current - window):
        Counter(_id(key, start)).delete()


def block_id(account_id: str, openid: str) -> str:
    """The counters item that marks a sender blocked by staff (value 1; absent or 0: not blocked)."""
    return f"block#{account_id}#{openid}"


def write_sender_quota(tx, effect, now: datetime) -> None:
    """Add a `SenderQuota` to a filing transaction: the sender must not be blocked (a condition on the
    block item), and each window's counter goes up by one only while below its limit."""

    tx.condition_check(Counter, block_id(effect.account_id, effect.openid), "quota", BLOCKED_REPLY,
                       condition=Counter.value.does_not_exist() | (Counter.value < 1))
    for counter_id, limit, forget_after in effect.windows:
        tx.update(Counter(counter_id), "quota", effect.refused_reply,
                  actions=[Counter.value.add(1), Counter.expires_at.set(forget_after)],
                  condition=Counter.value.does_not_exist() | (Counter.value < limit))


def is_blocked(account_id: str, openid: str) -> bool:
    """Whether staff have blocked the sender (a consistent read of the block marker)."""
    try:
        return int(Counter.get(block_id(account_id, openid), consistent_read=True).value or 0) >= 1
    except Counter.DoesNotExist:
        return False
