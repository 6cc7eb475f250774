"""便民纸条 as stored: the request, its audit trail, its duplicate guard, and its contact details."""
from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UTCDateTimeAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.domain.requests import OPEN_STATES
from chalicelib.store.base import GlobalSecondaryIndex, index_meta, table_meta


class RequestsByResident(GlobalSecondaryIndex):
    Meta = index_meta("by_resident")
    resident_key = UnicodeAttribute(hash_key=True)  # account_id#openid
    created_at = UTCDateTimeAttribute(range_key=True)


class RequestsByCommunity(GlobalSecondaryIndex):
    Meta = index_meta("by_community")
    community_key = UnicodeAttribute(hash_key=True)  # community_id (or district#<id> for untriaged)
    created_at = UTCDateTimeAttribute(range_key=True)


class RequestsByTeam(GlobalSecondaryIndex):
    Meta = index_meta("by_team")
    team_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class RequestsByDepartment(GlobalSecondaryIndex):
    Meta = index_meta("by_department")
    department_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class RequestsDue(GlobalSecondaryIndex):
    """Sparse: only open requests carry `sla_open` (their district), so the sweep reads just those."""

    Meta = index_meta("by_due")
    sla_open = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class RequestsToEscalate(GlobalSecondaryIndex):
    """Sparse: `sla_escalate` (the district) is set while another escalation may come; the sla-sweep
    job queries `escalate_at <= now` here and nothing else."""

    Meta = index_meta("by_escalation")
    sla_escalate = UnicodeAttribute(hash_key=True)
    escalate_at = UTCDateTimeAttribute(range_key=True)


class RequestsByDelivery(GlobalSecondaryIndex):
    """Sparse: meal deliveries carry `delivery_key` (canteen#day#meal): the delivery team's list."""

    Meta = index_meta("by_delivery")
    delivery_key = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class RequestsByCommunityState(GlobalSecondaryIndex):
    """A community's requests in one state, newest first: the inbox's state filter as a key, so a page
    reads a page whatever the community's history (`list_keys` below)."""

    Meta = index_meta("by_community_state")
    community_state = UnicodeAttribute(hash_key=True)  # community_key#state
    created_at = UTCDateTimeAttribute(range_key=True)


class RequestsByTeamState(GlobalSecondaryIndex):
    Meta = index_meta("by_team_state")
    team_state = UnicodeAttribute(hash_key=True)  # team_id#state
    created_at = UTCDateTimeAttribute(range_key=True)


class RequestsByDepartmentState(GlobalSecondaryIndex):
    Meta = index_meta("by_department_state")
    department_state = UnicodeAttribute(hash_key=True)  # department_id#state
    created_at = UTCDateTimeAttribute(range_key=True)


class RequestsByCommunityCategory(GlobalSecondaryIndex):
    Meta = index_meta("by_community_category")
    community_category = UnicodeAttribute(hash_key=True)  # community_key#category
    created_at = UTCDateTimeAttribute(range_key=True)


class RequestsByCommunityStatus(GlobalSecondaryIndex):
    """Open311's `status` (open / closed) as a key: community_key#open or community_key#closed."""

    Meta = index_meta("by_community_status")
    community_status = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class RequestsDueInCommunity(GlobalSecondaryIndex):
    """Sparse: open requests with a time limit carry `due_community` (their community_key): the overdue
    view of one community reads only its own overdue requests."""

    Meta = index_meta("by_community_due")
    due_community = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


def list_keys(community_key: str, state: str, team_id: str | None, department_id: str | None,
              category: str) -> dict[str, str | None]:
    """The composite keys of the list indexes for a request in this state and routing (None: absent, so
    the request is not in that index). Written at filing and rewritten by every transition; the sparse
    `due_community` follows `sla_open` instead (set at filing and reopening, removed on leaving the open
    states)."""
    return {"community_state": f"{community_key}#{state}",
            "team_state": f"{team_id}#{state}" if team_id else None,
            "department_state": f"{department_id}#{state}" if department_id else None,
            "community_category": f"{community_key}#{category}",
            "community_status": f"{community_key}#{'open' if state in OPEN_STATES else 'closed'}"}


class HelpRequest(Model):
    """One 便民纸条, keyed by its public number (e.g. XG-20261127-0042)."""

    Meta = table_meta("requests")
    number = UnicodeAttribute(hash_key=True)
    district_id = UnicodeAttribute()
    community_id = UnicodeAttribute(null=True)  # None: filed with the district's own account, to be triaged
    community_key = UnicodeAttribute()
    account_id = UnicodeAttribute()
    openid = UnicodeAttribute(null=True)  # None when staff or a partner filed it for someone without WeChat
    resident_key = UnicodeAttribute(null=True)
    channel = UnicodeAttribute()  # wechat, voice, h5, staff, open311
    text = UnicodeAttribute()  # the resident's own words, as sent
    media_id = UnicodeAttribute(null=True)  # a photo or voice message WeChat keeps for 3 days
    category = UnicodeAttribute(default="other")
    state = UnicodeAttribute(default="submitted")
    team_id = UnicodeAttribute(null=True)
    department_id = UnicodeAttribute(null=True)
    grid = UnicodeAttribute(null=True)  # 网格
    details = UnicodeAttribute(default="{}")  # JSON: e.g. a meal delivery's day, meal, portions, dishes
    guard_key = UnicodeAttribute(null=True)  # the duplicate guard it holds while open
    due_at = UTCDateTimeAttribute(null=True)
    sla_open = UnicodeAttribute(null=True)
    escalation = NumberAttribute(default=0)  # 0 none, 1 director, 2 sub-district
    sla_escalate = UnicodeAttribute(null=True)
    escalate_at = UTCDateTimeAttribute(null=True)
    rating = NumberAttribute(null=True)
    rating_comment = UnicodeAttribute(null=True)
    partner = UnicodeAttribute(null=True)  # Open311: the partner system that filed it
    delivery_key = UnicodeAttribute(null=True)  # meal delivery: canteen#day#meal
    profile_id = UnicodeAttribute(null=True)  # the household served (address, phone)
    flags = ListAttribute(of=UnicodeAttribute, null=True)  # domain.filing.FLAGS staff must act on
    created_at = UTCDateTimeAttribute(default=clock.now)
    updated_at = UTCDateTimeAttribute(default=clock.now)
    # the list indexes' composite keys (`list_keys`)
    community_state = UnicodeAttribute(null=True)
    team_state = UnicodeAttribute(null=True)
    department_state = UnicodeAttribute(null=True)
    community_category = UnicodeAttribute(null=True)
    community_status = UnicodeAttribute(null=True)
    due_community = UnicodeAttribute(null=True)

    by_resident = RequestsByResident()
    by_community = RequestsByCommunity()
    by_team = RequestsByTeam()
    by_department = RequestsByDepartment()
    by_due = RequestsDue()
    by_escalation = RequestsToEscalate()
    by_delivery = RequestsByDelivery()
    by_community_state = RequestsByCommunityState()
    by_team_state = RequestsByTeamState()
    by_department_state = RequestsByDepartmentState()
    by_community_category = RequestsByCommunityCategory()
    by_community_status = RequestsByCommunityStatus()
    by_community_due = RequestsDueInCommunity()


class EventsByCommunity(GlobalSecondaryIndex):
    """The audit log of a community (or district#<id> for untriaged requests), newest first."""

    Meta = index_meta("by_community")
    community_key = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)


class RequestEvent(Model):
    """One line of a request's audit trail. Append-only: the platform's IAM policy grants this table
    PutItem (with attribute_not_exists), GetItem and Query only — no update, no delete."""

    Meta = table_meta("request_events")
    Meta.append_only = True
    number = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)  # ISO time + a random suffix: time order
    community_key = UnicodeAttribute(null=True)
    action = UnicodeAttribute()  # file, accept, assign, …, note, recategorise, escalate
    actor_kind = UnicodeAttribute()
    actor_id = UnicodeAttribute()
    actor_role = UnicodeAttribute(null=True)
    from_state = UnicodeAttribute(null=True)
    to_state = UnicodeAttribute(null=True)
    note = UnicodeAttribute(default="")
    fields = UnicodeAttribute(default="{}")  # JSON: what changed (team, category, rating …)
    at = UTCDateTimeAttribute(default=clock.now)

    by_community = EventsByCommunity()


class RequestGuard(Model):
    """A resident's open need (guard_key: account#openid#fingerprint) → the request that serves it."""

    Meta = table_meta("request_guards", ttl_attribute="expires_at")
    guard_key = UnicodeAttribute(hash_key=True)
    number = UnicodeAttribute()
    expires_at = UTCDateTimeAttribute()


class RequestContact(Model):
    """Personal data of a request (phone, address), apart from the request: lists never read it, and it
    is shown in full only to those serving the request (masked to everybody else)."""

    Meta = table_meta("request_contacts")
    number = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)
