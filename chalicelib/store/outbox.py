"""Outbound messages (customer-service, template, subscribe messages): written first, sent by a worker."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.store.base import GlobalSecondaryIndex, index_meta, table_meta

# pending: waiting to be sent; sent; staff: WeChat cannot deliver it (window closed, no template) and a
# member of staff must reach the resident another way; failed: retries exhausted, dead-lettered.
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

    by_state = OutboxByState()
