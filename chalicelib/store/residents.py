"""Residents: a follower's openid on one account, linked to a household profile.

An openid is per account, so the same person following two community accounts has two `Resident`
items that may point to one `Profile`. Personal data (phone, address) is kept on the profile only
when the resident consents and a service needs it.
"""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.store.base import GlobalSecondaryIndex, index_meta, table_meta


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
    relation = UnicodeAttribute(null=True)  # self, or relative (a family member ordering for an elder)
    subscribed = BooleanAttribute(default=True)
    first_seen_at = UTCDateTimeAttribute(default=clock.now)
    last_message_at = UTCDateTimeAttribute(null=True)  # opens WeChat's 48-hour customer-service window

    by_profile = ResidentsByProfile()


class Profile(Model):
    """户档案: a household, shared by the openids (the resident and relatives) linked to it.

    Personal data, kept only with consent (`consent_at`) and apart from everything else: lists and logs
    show it masked; the resident can see and delete it.
    """

    Meta = table_meta("profiles")
    profile_id = UnicodeAttribute(hash_key=True)
    community_id = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    grid = UnicodeAttribute(null=True)
    household_size = NumberAttribute(null=True)
    mobility = UnicodeAttribute(null=True)  # e.g. 行动不便, 坐轮椅
    dietary_notes = UnicodeAttribute(null=True)  # e.g. 少盐, 软烂, 糖尿病
    consent_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=clock.now)
    updated_at = UTCDateTimeAttribute(default=clock.now)


class Conversation(Model):
    """A question the platform asked a resident and waits for (e.g. the delivery address), with its
    timeout; `expires_at` is checked in code (TTL only cleans up)."""

    Meta = table_meta("conversations", ttl_attribute="expires_at")
    resident_key = UnicodeAttribute(hash_key=True)  # account_id#openid
    awaiting = UnicodeAttribute()  # what is asked: address
    pending = UnicodeAttribute(default="{}")  # JSON: what to do with the answer
    expires_at = UTCDateTimeAttribute()
