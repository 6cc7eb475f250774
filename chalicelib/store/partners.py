"""Open311 partners: the other systems of the district (12345 hotline, the grid system …) that file and
follow 便民纸条 through `/open311/v2`, each with its API key.

Only the SHA-256 of a key is stored, and it is the table's key: finding the partner behind a key is one
GetItem, and a copy of the table gives nobody a working key. A partner may be limited to some
communities of its district (an empty list: all of them).
"""
from __future__ import annotations

import hashlib

from pynamodb.attributes import ListAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.store.base import table_meta

MIN_KEY_LENGTH = 16  # register_partner refuses shorter keys
MAX_KEY_LENGTH = 256  # longer "keys" are not looked up at all


class Partner(Model):
    """One API key of a partner system (a partner with two keys has two items)."""

    Meta = table_meta("partners")
    key_hash = UnicodeAttribute(hash_key=True)  # sha256 hex of the api_key
    partner_id = UnicodeAttribute()
    name = UnicodeAttribute()
    district_id = UnicodeAttribute()
    communities = ListAttribute(of=UnicodeAttribute, default=list)  # empty: every community of the district
    created_at = UTCDateTimeAttribute(default=clock.now)

    def serves(self, district_id: str, community_id: str | None) -> bool:
        """May this partner file and read the personal details of requests of that community?"""
        if not community_id or district_id != self.district_id:
            return False
        return not self.communities or community_id in self.communities


def key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


class PartnerKeyTaken(ValueError):
    """The key is already registered to another partner."""


def register_partner(partner_id: str, name: str, district_id: str, api_key: str,
                     communities: list[str] | tuple[str, ...] | None = None) -> Partner:
    """Store a partner's key (idempotent for the same partner: the seed may load twice).

    Raises ValueError for a key that is too short or too long, and PartnerKeyTaken when the key
    belongs to another partner."""

    if not isinstance(api_key, str) or not MIN_KEY_LENGTH <= len(api_key) <= MAX_KEY_LENGTH:
        raise ValueError(f"api_key must be {MIN_KEY_LENGTH} to {MAX_KEY_LENGTH} characters")
    partner = Partner(key_hash(api_key), partner_id=partner_id, name=name, district_id=district_id,
                      communities=list(communities or []))
    try:
        partner.save(condition=Partner.key_hash.does_not_exist() | (Partner.partner_id == partner_id))
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise PartnerKeyTaken(f"this api_key is registered to another partner than {partner_id}") from exc
        raise
    return partner


def partner_for_key(api_key: str | None) -> Partner | None:
    """The partner behind an API key, or None (one GetItem; nothing for an empty or oversized key)."""
    if not api_key or not isinstance(api_key, str) or len(api_key) > MAX_KEY_LENGTH:
        return None
    try:
        return Partner.get(key_hash(api_key))
    except Partner.DoesNotExist:
        return None


def revoke_key(api_key: str) -> None:
    """Withdraw one key (takes effect at once: keys are not cached)."""
    Partner(key_hash(api_key)).delete()
