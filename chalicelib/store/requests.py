"""便民纸条 (residents' help requests) as stored."""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.store.base import GlobalSecondaryIndex, index_meta, table_meta, utcnow


class RequestsByResident(GlobalSecondaryIndex):
    Meta = index_meta("by_resident")
    resident_key = UnicodeAttribute(hash_key=True)  # account_id#openid
    created_at = UTCDateTimeAttribute(range_key=True)


class HelpRequest(Model):
    """One 便民纸条, keyed by its public number (e.g. XG-20261127-0042)."""

    Meta = table_meta("requests")
    number = UnicodeAttribute(hash_key=True)
    district_id = UnicodeAttribute()
    community_id = UnicodeAttribute(null=True)  # None: filed with the district's own account, to be triaged
    account_id = UnicodeAttribute()
    openid = UnicodeAttribute(null=True)  # None when staff filed it for someone without WeChat
    resident_key = UnicodeAttribute(null=True)
    channel = UnicodeAttribute()  # wechat, voice, h5, staff, open311
    text = UnicodeAttribute()  # the resident's own words, as sent
    media_id = UnicodeAttribute(null=True)  # a photo or a voice message WeChat holds for 3 days
    category = UnicodeAttribute(default="other")
    state = UnicodeAttribute(default="submitted")
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    by_resident = RequestsByResident()
