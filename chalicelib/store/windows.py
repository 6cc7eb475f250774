"""Counts in fixed time windows (login failures, login requests, residents' 便民纸条), on the counters
table: one item per key and window, `ADD` to count, expiry checked in code (DynamoDB's TTL only cleans up).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.domain.limits import window_start
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


def count_in(key: str, bucket: str) -> int:
    """The count of a named window (e.g. a Shanghai day) without changing it (one GetItem)."""
    try:
        return int(Counter.get(f"{key}@{bucket}").value or 0)
    except Counter.DoesNotExist:
        return 0
