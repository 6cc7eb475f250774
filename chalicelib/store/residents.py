"""Residents: a follower's openid on one account, linked to a household profile.

An openid is per account, so the same person following two community accounts has two `Resident`
items that may point to one `Profile`. Personal data (phone, address) is kept on the profile only
when the resident consents and a service needs it.
"""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.store.base import GlobalSecondaryIndex, index_meta, table_meta, utcnow


class ResidentsByProfile(GlobalSecondaryIndex):
    Meta = index_meta("by_profile")
    profile_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute(range_key=True)


class Resident(Model):
    """居民 as WeChat knows them: (account, openid)."""

    Meta = table_meta("residents")
    account_id = UnicodeAttribute(hash_key=True)
    openid = UnicodeAttribute(range_key=True)
    profile_id = UnicodeAttribute(null=True)
    subscribed = BooleanAttribute(default=True)
    first_seen_at = UTCDateTimeAttribute(default=utcnow)
    last_message_at = UTCDateTimeAttribute(null=True)  # opens WeChat's 48-hour customer-service window

    by_profile = ResidentsByProfile()


class Profile(Model):
    """户档案: a household, shared by the openids (and relatives) linked to it."""

    Meta = table_meta("profiles")
    profile_id = UnicodeAttribute(hash_key=True)
    household_size = NumberAttribute(null=True)
    consent_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
