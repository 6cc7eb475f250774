"""The shared access token of each account (one for all Lambda copies)."""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.store.base import table_meta


class AccessToken(Model):
    """An account's current API access token and the lease of whoever is refreshing it.

    DynamoDB TTL never deletes on time (and moto never does), so `expires_at` is checked in code.
    """

    Meta = table_meta("access_tokens")
    account_id = UnicodeAttribute(hash_key=True)
    token = UnicodeAttribute(null=True)
    expires_at = UTCDateTimeAttribute(null=True)
    lease_owner = UnicodeAttribute(null=True)
    lease_until = UTCDateTimeAttribute(null=True)
    refreshed_at = UTCDateTimeAttribute(null=True)
