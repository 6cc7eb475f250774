"""Staff alerts (工作提醒) and WeChat binding (绑定微信): the one-time binding codes, and the alert entries
that are not request events (a post waiting for review, the monthly bulletin), digested per staff member
per window by the `staff-alerts` job (services/staff_alerts.py).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.attributes import ListAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.store.base import table_meta

ALERT_TTL = timedelta(days=7)


class BindCode(Model):
    """A one-time code a staff member sends to an account in WeChat to bind it (10 minutes, single use).
    Keyed by the code's SHA-256: the code itself is never stored."""

    Meta = table_meta("staff_codes", ttl_attribute="expires_at")
    code_hash = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute()
    expires_at = UTCDateTimeAttribute()
    created_at = UTCDateTimeAttribute()


class StaffAlert(Model):
    """An alert for named staff (or a scope) in a digest window; also the window's `~done` marker."""

    Meta = table_meta("staff_alerts", ttl_attribute="expires_at")
    window = UnicodeAttribute(hash_key=True)  # the window's start, UTC, e.g. 2026-11-30T09:20Z
    entry_id = UnicodeAttribute(range_key=True)  # <time>#<kind>#<ref>, or "~done"
    kind = UnicodeAttribute()  # a key of domain.staff_alerts.ALERT_KINDS, or "done"
    text = UnicodeAttribute(default="")
    ref = UnicodeAttribute(null=True)  # a request number or a post id
    usernames = ListAttribute(of=UnicodeAttribute, null=True)  # the recipients, when named
    scope_keys = ListAttribute(of=UnicodeAttribute, null=True)  # or their scopes (community#…, team#…)
    at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute(null=True)


def alert_item(window: str, kind: str, text: str, at: datetime, ref: str | None = None,
               usernames: list[str] | None = None, scope_keys: list[str] | None = None) -> StaffAlert:
    return StaffAlert(window, f"{at.isoformat(timespec='microseconds')}#{kind}#{ref or ''}", kind=kind, text=text,
                      ref=ref, usernames=usernames or None, scope_keys=scope_keys or None, at=at,
                      expires_at=at + ALERT_TTL)


__all__ = ["BindCode", "StaffAlert", "alert_item"]
