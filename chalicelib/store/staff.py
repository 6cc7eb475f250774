"""Staff users and their scope (社工, 主任, 街道, 区, 服务队, 部门)."""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.domain.vocabulary import ROLE_SCOPE, ROLES
from chalicelib.store.base import GlobalSecondaryIndex, index_meta, table_meta

__all__ = ["ROLES", "ROLE_SCOPE", "StaffEvent", "StaffUser", "scope_key"]


def scope_key(role: str, scope_id: str) -> str:
    return f"{ROLE_SCOPE[role].removesuffix('_id')}#{scope_id}"


class StaffByScope(GlobalSecondaryIndex):
    Meta = index_meta("by_scope")
    scope_key = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute(range_key=True)


class StaffUser(Model):
    """A staff login. The password is kept only as an argon2 hash."""

    Meta = table_meta("staff")
    username = UnicodeAttribute(hash_key=True)
    display_name = UnicodeAttribute()
    role = UnicodeAttribute()  # a key of ROLES
    scope_key = UnicodeAttribute()  # e.g. community#xianggang-huayuan
    district_id = UnicodeAttribute()
    subdistrict_id = UnicodeAttribute(null=True)
    community_id = UnicodeAttribute(null=True)
    team_id = UnicodeAttribute(null=True)
    department_id = UnicodeAttribute(null=True)
    password_hash = UnicodeAttribute()
    failed_logins = NumberAttribute(default=0)
    updated_at = UTCDateTimeAttribute(default=clock.now)
    # Sign-in state, kept by chalicelib/auth/service.py.
    locked_until = UTCDateTimeAttribute(null=True)  # set after too many failed logins; past or None: unlocked
    password_changed_at = UTCDateTimeAttribute(null=True)
    token_version = NumberAttribute(default=0)  # tokens carry it as `ver`; bumped by logout and password change
    # The staff member's own WeChat (绑定微信), for alerts: a follower of `wechat_account_id` (their community's
    # account or 微市南) with that account's openid; `alert_kinds` lists what they chose to hear (None: all).
    wechat_account_id = UnicodeAttribute(null=True)
    wechat_openid = UnicodeAttribute(null=True)
    alert_kinds = ListAttribute(of=UnicodeAttribute, null=True)
    wechat_bound_at = UTCDateTimeAttribute(null=True)
    # Managed by people (services/people.py): a deactivated login is refused, its tokens at once (token_version
    # bumped); a one-time password must be changed before anything else; `login_epoch` names the generation
    # of the username's failure counters, so "unlock" starts them afresh.
    deactivated_at = UTCDateTimeAttribute(null=True)
    must_change_password = BooleanAttribute(null=True)
    login_epoch = NumberAttribute(default=0)
    created_by = UnicodeAttribute(null=True)

    by_scope = StaffByScope()


class StaffEvent(Model):
    """The audit trail of people management (人员变更记录): who created, deactivated, reset, unlocked or
    changed whom, and when. Append-only: one item per change, never updated."""

    Meta = table_meta("staff_events")
    Meta.append_only = True
    username = UnicodeAttribute(hash_key=True)  # the account changed
    event_id = UnicodeAttribute(range_key=True)  # ISO time + random
    action = UnicodeAttribute()  # create / deactivate / reactivate / reset_password / unlock / change_role
    actor = UnicodeAttribute()  # the username who did it
    actor_name = UnicodeAttribute(null=True)
    actor_role = UnicodeAttribute(null=True)
    fields = UnicodeAttribute(default="{}")  # JSON: what changed (role, scope), never a password
    at = UTCDateTimeAttribute()
