"""In-memory fakes of the adapters, for unit tests of the services and the domain without moto.

`FakeWorld` holds the state; `world.adapters()` is what `bootstrap.override(**...)` takes. The fake unit of
work applies the domain's effects the way the DynamoDB writers do (conditions included: a delivery seen
twice, a guard held, a state that moved, a capacity used up), so a service behaves the same against it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from chalicelib.domain.canteen import CanteenView, Household
from chalicelib.domain.effects import (
    ClaimDelivery,
    DeleteProfile,
    EndConversation,
    FollowChanged,
    NewRequest,
    Notify,
    ReserveCapacity,
    SaveConversation,
    SaveProfile,
    Transition,
)
from chalicelib.domain.errors import Duplicate, DuplicateNeed, Refused, StaleState
from chalicelib.domain.messages import Reply
from chalicelib.domain.ports import AccountView
from chalicelib.domain.requests import DEFAULT_POLICY, OPEN_STATES, STATE_NAMES, Policy, RequestView, format_number
from chalicelib.store.request_store import Page


@dataclass
class Record:
    """A stored 便民纸条, with the attributes the store's model has."""

    number: str
    district_id: str
    community_id: str | None
    account_id: str
    openid: str | None
    channel: str
    text: str
    category: str
    state: str
    team_id: str | None
    department_id: str | None
    grid: str | None
    details: str
    due_at: datetime | None
    created_at: datetime
    updated_at: datetime
    guard_key: str | None = None
    delivery_key: str | None = None
    profile_id: str | None = None
    flags: list[str] | None = None
    escalation: int = 0
    escalate_at: datetime | None = None
    rating: int | None = None
    rating_comment: str | None = None
    media_id: str | None = None
    partner: str | None = None
    sla_open: str | None = None
    sla_escalate: str | None = None

    @property
    def community_key(self) -> str:
        return self.community_id or f"district#{self.district_id}"


@dataclass
class Event:
    number: str
    at: datetime
    action: str
    actor_id: str
    actor_kind: str
    actor_role: str | None
    from_state: str | None
    to_state: str | None
    note: str | None
    fields: str
    community_key: str


@dataclass
class Contact:
    name: str | None = None
    phone: str | None = None
    address: str | None = None


@dataclass
class FakeWorld:
    accounts: dict[str, AccountView] = field(default_factory=dict)
    teams: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    departments: dict[str, str] = field(default_factory=dict)
    canteens: dict[str, CanteenView] = field(default_factory=dict)
    menus: dict[tuple[str, str], dict] = field(default_factory=dict)
    households: dict[tuple[str, str], Household] = field(default_factory=dict)
    conversations: dict[str, dict] = field(default_factory=dict)
    policy: Policy = DEFAULT_POLICY
    requests: dict[str, Record] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    contacts: dict[str, Contact] = field(default_factory=dict)
    guards: dict[str, str] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    deliveries: dict[str, Reply] = field(default_factory=dict)
    outbox: list[Notify] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    saved_menus: dict[tuple[str, str], dict] = field(default_factory=dict)
    commits: int = 0
    claims: dict[str, list[str]] = field(default_factory=dict)

    def adapters(self) -> dict[str, Any]:
        return {"ports": FakePorts(self), "unit_of_work": FakeUnitOfWork(self), "requests": FakeRequests(self),
                "canteens": FakeCanteens(self), "staff": FakeStaff(self)}


class FakeStaff:
    """People (`store.staff_store`): the names the audit trail shows; `staff` maps username -> (name, role)."""

    def __init__(self, world: "FakeWorld"):
        self.w = world

    def names(self, usernames):
        known = getattr(self.w, "staff", {}) or {}
        return {u: SimpleNamespace(username=u, display_name=known[u][0], role=known[u][1])
                for u in usernames if u in known}


class FakePorts:
    def __init__(self, world: FakeWorld):
        self.w = world

    def account(self, account_id):
        return None

    def rules(self, account_id):
        from chalicelib.domain.rules import DEFAULT_RULES

        return DEFAULT_RULES

    def community_account(self, community_id):
        return self.w.accounts.get(community_id)

    def account_templates(self, account_id):
        return "{}"

    def community_grids(self, community_id):
        return ("1网格", "2网格")

    def resident_limits(self, district_id):
        from chalicelib.domain.limits import DEFAULT_RESIDENT_LIMITS

        return DEFAULT_RESIDENT_LIMITS

    def directory(self, district_id):
        return list(self.w.accounts.values())

    def next_request_number(self, prefix: str, now: datetime, claim: str | None = None) -> str:
        day = now.strftime("%Y%m%d")
        key = f"request#{prefix}#{day}"
        claims = self.w.claims.setdefault(key, [])
        if claim and claim in claims:
            return format_number(prefix, day, claims.index(claim) + 1)
        self.w.counters[key] = self.w.counters.get(key, 0) + 1
        claims.append(claim or "")
        return format_number(prefix, day, self.w.counters[key])

    def open_requests(self, account_id, openid):
        return [{"number": r.number, "state": r.state, "text": r.text, "created_at": r.created_at}
                for r in self.w.requests.values()
                if r.account_id == account_id and r.openid == openid and r.state in OPEN_STATES]

    def policy(self, district_id, community_id):
        return self.w.policy

    def teams(self, community_id):
        return self.w.teams.get(community_id, {})

    def team_of_kind(self, community_id, kind):
        for team_id, (team_kind, name) in sorted(self.teams(community_id).items()):
            if team_kind == kind:
                return team_id, name
        return None

    def team_name(self, district_id, community_id, team_id, department_id):
        if team_id and community_id:
            hit = self.teams(community_id).get(team_id)
            return hit[1] if hit else None
        return self.w.departments.get(department_id) if department_id else None

    def request(self, number):
        r = self.w.requests.get(number)
        return as_view(r) if r else None

    def canteen_for(self, community_id):
        return next((c for c in self.w.canteens.values() if c.community_id == community_id), None)

    def menu(self, canteen_id, day: date):
        return self.w.menus.get((canteen_id, day.isoformat()))

    def household(self, account_id, openid):
        return self.w.households.get((account_id, openid))

    def conversation(self, account_id, openid, now):
        found = self.w.conversations.get(f"{account_id}#{openid}")
        return found if found and found["expires_at"] > now else None

    def staff_for_code(self, code_hash, now):
        found = getattr(self.w, "bind_codes", {}).get(code_hash)
        return found if found else None


def as_view(r: Record) -> RequestView:
    portions = int(json.loads(r.details or "{}").get("portions", 0)) if r.delivery_key else 0
    return RequestView(r.number, r.state, r.category, r.community_id, r.district_id, r.account_id, r.openid,
                       r.team_id, r.department_id, r.created_at, r.guard_key, r.delivery_key, portions,
                       r.escalation, tuple(r.flags or ()))


class FakeUnitOfWork:
    """Applies effects all or nothing, with the DynamoDB writers' conditions."""

    def __init__(self, world: FakeWorld):
        self.w = world

    def delivered(self, delivery_key):
        return delivery_key in self.w.deliveries

    def stored_reply(self, delivery_key):
        return self.w.deliveries[delivery_key]

    def remember_stamp(self, stamp, delivery_key, now):
        pass

    def commit(self, delivery_key, reply, effects, now, stamp=None):
        w = self.w
        if delivery_key is not None and delivery_key in w.deliveries:
            raise Duplicate(delivery_key)
        self._check(effects, now)
        if delivery_key is not None:
            w.deliveries[delivery_key] = reply
        made = []
        for effect in effects:
            made += self._apply(effect, now)
        w.commits += 1
        w.published += made
        return made

    def _check(self, effects, now):
        w = self.w
        for effect in effects:
            if isinstance(effect, ClaimDelivery) and effect.key in w.deliveries:
                raise Duplicate(effect.key)
            if isinstance(effect, NewRequest) and effect.guard_key and effect.guard_key in w.guards:
                held = w.requests.get(w.guards[effect.guard_key])
                if held and held.state in OPEN_STATES:
                    raise DuplicateNeed(held.number)
            if type(effect).__name__ == "SenderQuota" and any(
                    w.counters.get(c, 0) >= limit for c, limit, _ in effect.windows):
                from chalicelib.domain.errors import OverLimit

                raise OverLimit(effect.refused_reply)
            if isinstance(effect, ReserveCapacity) and \
                    w.counters.get(effect.counter_id, 0) + effect.portions > effect.limit:
                raise Refused(effect.refused_reply)
            if isinstance(effect, Transition):
                plan = effect.plan
                r = w.requests.get(plan.number)
                if r is None or r.state != plan.from_state or (
                        plan.expect_escalation is not None and r.escalation != plan.expect_escalation):
                    raise StaleState(plan.number)

    def _apply(self, effect, now) -> list[str]:
        w = self.w
        if isinstance(effect, NewRequest):
            w.requests[effect.number] = Record(
                effect.number, effect.district_id, effect.community_id, effect.account_id, effect.openid,
                effect.channel, effect.text, effect.category, "submitted", effect.team_id, effect.department_id,
                effect.grid, json.dumps(effect.details, ensure_ascii=False), effect.due_at, now, now,
                effect.guard_key, effect.delivery_key, effect.profile_id, list(effect.flags) or None,
                escalate_at=effect.due_at)
            if effect.guard_key:
                w.guards[effect.guard_key] = effect.number
            if any(effect.contact.values()):
                w.contacts[effect.number] = Contact(**{k: effect.contact.get(k) for k in ("name", "phone", "address")})
            key = w.requests[effect.number].community_key
            w.counters[f"count#{key}#submitted"] = w.counters.get(f"count#{key}#submitted", 0) + 1
            w.events.append(Event(effect.number, now, "file", effect.partner or effect.openid or effect.actor,
                                  "resident" if effect.actor == "resident" else "staff", None, None, "submitted",
                                  None, "{}", key))
            return []
        if isinstance(effect, Transition):
            plan = effect.plan
            r = w.requests[plan.number]
            before = r.state
            values = {name: value for name, value in plan.set_fields.items() if hasattr(r, name)}
            w.requests[plan.number] = replace(r, state=plan.to_state, updated_at=plan.at, **values)
            if plan.contact:
                w.contacts[plan.number] = Contact(**{k: plan.contact.get(k) for k in ("name", "phone", "address")})
            if before != plan.to_state:
                for state, step in ((before, -1), (plan.to_state, 1)):
                    key = f"count#{r.community_key}#{state}"
                    w.counters[key] = w.counters.get(key, 0) + step
            if plan.release_capacity:
                counter, portions = plan.release_capacity
                w.counters[counter] = w.counters.get(counter, 0) - portions
            w.events.append(Event(plan.number, plan.at, plan.action, plan.actor.id, plan.actor.kind, plan.actor.role,
                                  before, plan.to_state, plan.note,
                                  json.dumps({**plan.set_fields, **plan.audit_fields}, default=str), r.community_key))
            return self._apply(plan.notice, now) if plan.notice else []
        if isinstance(effect, Notify):
            w.outbox.append(effect)
            return [f"outbox-{len(w.outbox)}"]
        if isinstance(effect, ReserveCapacity):
            w.counters[effect.counter_id] = w.counters.get(effect.counter_id, 0) + effect.portions
            return []
        if isinstance(effect, SaveConversation):
            w.conversations[f"{effect.account_id}#{effect.openid}"] = {
                "awaiting": effect.awaiting, "pending": effect.pending, "expires_at": effect.expires_at}
            return []
        if isinstance(effect, EndConversation):
            w.conversations.pop(f"{effect.account_id}#{effect.openid}", None)
            return []
        if isinstance(effect, ClaimDelivery):
            w.deliveries[effect.key] = Reply()
            return []
        if type(effect).__name__ == "SenderQuota":
            for counter_id, limit, _ in effect.windows:
                w.counters[counter_id] = w.counters.get(counter_id, 0) + 1
            return []
        if isinstance(effect, (SaveProfile, DeleteProfile, FollowChanged)):
            return []
        raise TypeError(f"no fake writer for {type(effect).__name__}")


class FakeRequests:
    def __init__(self, world: FakeWorld):
        self.w = world

    def get(self, number):
        return self.w.requests.get(number)

    def contact(self, request):
        return self.w.contacts.get(request.number)

    def timeline(self, number):
        return [e for e in self.w.events if e.number == number]

    def as_view(self, record):
        return as_view(record)

    def list_requests(self, *, community_key=None, team_id=None, department_id=None, state=None, category=None,
                      status=None, since=None, until=None, limit=20, cursor=None):
        found = [r for r in sorted(self.w.requests.values(), key=lambda r: r.created_at, reverse=True)
                 if (community_key is None or r.community_key == community_key)
                 and (team_id is None or r.team_id == team_id)
                 and (department_id is None or r.department_id == department_id)
                 and (state is None or r.state == state) and (category is None or r.category == category)
                 and (status is None or (r.state in OPEN_STATES) == (status == "open"))
                 and (since is None or r.created_at >= since) and (until is None or r.created_at <= until)]
        start = int(cursor or 0)
        page = found[start:start + limit]
        return Page(page, str(start + limit) if start + limit < len(found) else None)

    def counts(self, community_key):
        return {s: self.w.counters.get(f"count#{community_key}#{s}", 0) for s in STATE_NAMES}

    def overdue(self, district_id, now, community_key=None, limit=100):
        return [r for r in self.w.requests.values() if r.due_at and r.due_at < now and r.state in OPEN_STATES
                and (community_key is None or r.community_key == community_key)][:limit]

    def community_events(self, community_key, limit=50, cursor=None):
        return Page([e for e in reversed(self.w.events) if e.community_key == community_key][:limit], None)

    def to_escalate(self, district_id, now):
        return [r for r in self.w.requests.values() if r.escalate_at and r.escalate_at <= now
                and r.state in OPEN_STATES and r.escalation < 2]


class FakeCanteens:
    def __init__(self, world: FakeWorld):
        self.w = world

    def canteen(self, canteen_id):
        return self.w.canteens.get(canteen_id)

    def save_menu(self, canteen_id, day, meals, published, by, at):
        self.w.saved_menus[(canteen_id, day.isoformat())] = {"meals": meals, "published": published, "by": by}
        if published:
            self.w.menus[(canteen_id, day.isoformat())] = meals

    def copy_menus(self, canteen_id, source, target, published, by, at):
        copied = []
        for src, dst in zip(source, target):
            menu = self.w.saved_menus.get((canteen_id, src.isoformat()))
            if menu:
                self.save_menu(canteen_id, dst, menu["meals"], published, by, at)
                copied.append(dst.isoformat())
        return copied

    def deliveries(self, key):
        return [r for r in self.w.requests.values() if r.delivery_key == key]
