"""Outbound messages (customer-service, template, subscribe messages): written first, sent by a worker."""
from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.store.base import GlobalSecondaryIndex, index_meta, table_meta

# pending: waiting to be sent; sent; staff: WeChat cannot deliver it (every channel refused, or delivery
# uncertain) and a member of staff must reach the resident another way; failed: retries exhausted,
# dead-lettered.
OUTBOX_STATES = ("pending", "sent", "staff", "failed")


class OutboxByState(GlobalSecondaryIndex):
    Meta = index_meta("by_state")
    state = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class OutboxMessage(Model):
    """One message to one resident; `body` is the text, `purpose` picks the template when the window is shut."""

    Meta = table_meta("outbox")
    outbox_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    openid = UnicodeAttribute()
    purpose = UnicodeAttribute()  # e.g. request_update: the key of the account's template for it
    body = UnicodeAttribute()  # simplified Chinese text for the resident
    fields = UnicodeAttribute(default="{}")  # JSON: template data (request number, state, team …)
    state = UnicodeAttribute(default="pending")
    channel = UnicodeAttribute(null=True)  # how it went out: custom, template, subscribe
    attempts = NumberAttribute(default=0)
    lease_until = UTCDateTimeAttribute(null=True)  # a worker is sending it until then
    last_error = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=clock.now)
    sent_at = UTCDateTimeAttribute(null=True)
    ambiguous = NumberAttribute(default=0)  # sends that got no answer (may have gone out): at most one resend

    by_state = OutboxByState()


# ---- the outbox worker's repository (services.notices) --------------------------------------------

def take(outbox_id: str, now: datetime, lease: timedelta) -> OutboxMessage | None:
    """The pending item with a lease taken, or None when it is gone, done, or leased to another worker."""
    item = OutboxMessage(outbox_id)
    try:
        item.update(actions=[OutboxMessage.lease_until.set(now + lease), OutboxMessage.attempts.add(1)],
                    condition=OutboxMessage.outbox_id.exists() & (OutboxMessage.state == "pending")
                    & (OutboxMessage.lease_until.does_not_exist() | (OutboxMessage.lease_until < now)))
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
        return None
    return item


def pending(outbox_id: str) -> bool:
    """Whether the item still waits to be sent (a consistent read)."""
    try:
        return OutboxMessage.get(outbox_id, consistent_read=True).state == "pending"
    except OutboxMessage.DoesNotExist:
        return False


def finish(item: OutboxMessage, state: str, now: datetime, channel: str | None = None,
           error: str | None = None) -> None:
    actions = [OutboxMessage.state.set(state), OutboxMessage.lease_until.remove()]
    if channel:
        actions.append(OutboxMessage.channel.set(channel))
    if state == "sent":
        actions.append(OutboxMessage.sent_at.set(now))
    if error:
        actions.append(OutboxMessage.last_error.set(error[:500]))
    item.update(actions=actions)


def release(item: OutboxMessage, error: str) -> None:
    item.update(actions=[OutboxMessage.lease_until.remove(), OutboxMessage.last_error.set(error[:500])])


def mark_ambiguous(item: OutboxMessage, error: str) -> int:
    """Record an outcome without an answer; the count so far."""
    item.update(actions=[OutboxMessage.ambiguous.add(1), OutboxMessage.lease_until.remove(),
                         OutboxMessage.last_error.set(error[:500])])
    return int(item.ambiguous or 0)


def fail(outbox_id: str, error: str) -> None:
    try:
        OutboxMessage(outbox_id).update(actions=[OutboxMessage.state.set("failed"),
                                                  OutboxMessage.last_error.set(error[:500]),
                                                  OutboxMessage.lease_until.remove()],
                                         condition=OutboxMessage.state == "pending")
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise


def pending_before(cutoff: datetime) -> list[str]:
    return [i.outbox_id for i in OutboxMessage.by_state.query("pending", OutboxMessage.created_at < cutoff)]


def enqueue_once(outbox_id: str, account_id: str, openid: str, purpose: str, body: str, fields: str,
                 now: datetime) -> bool:
    """A message under a deterministic id (a job that may run twice): written once; whether it was new."""
    try:
        OutboxMessage(outbox_id, account_id=account_id, openid=openid, purpose=purpose, body=body, fields=fields,
                      state="pending", created_at=now).save(condition=OutboxMessage.outbox_id.does_not_exist())
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True
