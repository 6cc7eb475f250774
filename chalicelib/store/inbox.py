"""Deliveries already handled (exactly-once for WeChat's retries)."""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.store.base import table_meta


class Delivery(Model):
    """One inbound message or event of one account, with the reply it got.

    Written with a condition (`attribute_not_exists`, or an expired item) in the same request as the
    message's side effects, so three copies of one message arriving at once on three Lambdas make one
    set of effects, and every copy answers with the stored reply. `expires_at` is DynamoDB's TTL
    attribute (cleanup only; expiry is checked in code).
    """

    Meta = table_meta("deliveries", ttl_attribute="expires_at")
    delivery_key = UnicodeAttribute(hash_key=True)  # account_id + "#" + Inbound.dedupe_key
    reply = UnicodeAttribute()  # the Reply as JSON (sealed again for each copy: nonce and timestamp differ)
    created_at = UTCDateTimeAttribute(default=clock.now)
    expires_at = UTCDateTimeAttribute()


class CallbackStamp(Model):
    """A callback URL's (timestamp, nonce, signature) already used (防重放), and the delivery it carried.

    Written in the same request as the delivery: a captured URL sent again with another body within the
    replay window finds it and is refused; WeChat's retry of the same message (same delivery) passes.
    Plain mode's signature does not cover the body, so this is what makes a plain callback single-use.
    """

    Meta = table_meta("callback_stamps", ttl_attribute="expires_at")
    stamp_key = UnicodeAttribute(hash_key=True)  # account_id#timestamp#nonce#signature
    delivery_key = UnicodeAttribute()
    expires_at = UTCDateTimeAttribute()  # the end of the replay window; checked in code
