"""Atomic counters (for example the daily sequence in public request numbers)."""
from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.models import Model

from chalicelib.store.base import table_meta


class Counter(Model):
    Meta = table_meta("counters", ttl_attribute="expires_at")
    counter_id = UnicodeAttribute(hash_key=True)
    value = NumberAttribute(default=0)
    expires_at = UTCDateTimeAttribute(null=True)
    # The keys of the deliveries that took each value, in order (a sequence's value n went to claims[n-1]):
    # a WeChat retry of a message that already took a number gets that number back, never a second one.
    claims = ListAttribute(of=UnicodeAttribute, null=True)


def next_value(counter_id: str, expires_at=None) -> int:
    """Add one and return the new value: one UpdateItem, safe under any concurrency."""
    actions = [Counter.value.add(1)]
    if expires_at is not None:
        actions.append(Counter.expires_at.set(expires_at))
    counter = Counter(counter_id)
    counter.update(actions=actions)  # PynamoDB asks for ALL_NEW and refreshes the item
    return int(counter.value)


def claim_value(counter_id: str, claim: str, expires_at=None) -> int:
    """The value `claim` took from the counter: a new one the first time (one conditional UpdateItem that is
    also the duplicate check), the same one again for a retry of the same claim (plus one consistent read)."""
    actions = [Counter.value.add(1), Counter.claims.set((Counter.claims | []).append([claim]))]
    if expires_at is not None:
        actions.append(Counter.expires_at.set(expires_at))
    counter = Counter(counter_id)
    try:
        counter.update(actions=actions, condition=Counter.claims.does_not_exist() | ~Counter.claims.contains(claim))
        return int(counter.value)
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
    claims = Counter.get(counter_id, consistent_read=True).claims or []
    return claims.index(claim) + 1
