"""Atomic counters (for example the daily sequence in public request numbers)."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.store.base import table_meta


class Counter(Model):
    Meta = table_meta("counters", ttl_attribute="expires_at")
    counter_id = UnicodeAttribute(hash_key=True)
    value = NumberAttribute(default=0)
    expires_at = UTCDateTimeAttribute(null=True)


def next_value(counter_id: str, expires_at=None) -> int:
    """Add one and return the new value: one UpdateItem, safe under any concurrency."""
    actions = [Counter.value.add(1)]
    if expires_at is not None:
        actions.append(Counter.expires_at.set(expires_at))
    counter = Counter(counter_id)
    counter.update(actions=actions)  # PynamoDB asks for ALL_NEW and refreshes the item
    return int(counter.value)
