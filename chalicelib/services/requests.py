"""The staff desk for 便民纸条 (纸条办理): look, list, move through the states, assign, re-categorise, note,
file for a resident. Every use case checks scope through `chalicelib.auth.scope` (one place) before it
reads or writes; every change is planned by the domain (`domain.requests`) and written by the unit of
work with its audit event.
"""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from chalicelib import bootstrap
from chalicelib.auth.scope import can, communities_in_scope, require, transition_action
from chalicelib.domain.dates import local_date
from chalicelib.domain.effects import Transition
from chalicelib.domain.errors import DomainError, NotFound, StaleState
from chalicelib.domain.masking import mask_address, mask_phone
from chalicelib.domain.meals import read_meal_order
from chalicelib.domain.messages import NO_REPLY
from chalicelib.domain.records import record
from chalicelib.domain.requests import (
    CATEGORIES,
    STATE_NAMES,
    TRANSITIONS,
    Actor,
    TransitionPlan,
    check_category,
    classify,
    plan_note,
    plan_recategorise,
    plan_transition,
)
from chalicelib.domain.text import normalise
from chalicelib.domain.vocabulary import ROLES
from chalicelib.services import filing


class DeskError(DomainError):
    """A request the desk cannot carry out (bad input); the message is for staff."""


@record
class Scoped:
    """What scope checks read: an object's community, team, department and district."""

    community_id: str | None
    team_id: str | None
    department_id: str | None
    district_id: str


def actor_of(principal) -> Actor:
    kind = {"team_member": "team", "department": "department"}.get(principal.role, "staff")
    return Actor(kind, principal.username, principal.role)


def load(principal, number: str, action: str = "request.view"):
    """The request, if it exists and is in the principal's scope (else NotFound, alike)."""
    request = bootstrap.requests().get(number)
    if request is None:
        raise NotFound(f"纸条 {number} 不存在")
    require(principal, action, request)
    return request


def request_json(r, contact=None, full_contact: bool = False) -> dict[str, Any]:
    """A request as the API shows it; the contact only masked unless the caller serves the request."""
    data = {
        "number": r.number, "state": r.state, "state_name": STATE_NAMES.get(r.state, r.state),
        "category": r.category, "category_name": CATEGORIES.get(r.category, r.category),
        "community_id": r.community_id, "team_id": r.team_id, "department_id": r.department_id,
        "grid": r.grid, "channel": r.channel, "text": r.text, "details": json.loads(r.details or "{}"),
        "created_at": r.created_at.isoformat(), "updated_at": r.updated_at.isoformat(),
        "due_at": r.due_at.isoformat() if r.due_at else None, "escalation": int(r.escalation or 0),
        "rating": int(r.rating) if r.rating is not None else None, "rating_comment": r.rating_comment,
        "has_wechat": bool(r.openid), "flags": list(getattr(r, "flags", None) or []),
    }
    if contact is not None:
        data["contact"] = {
            "name": contact.name,
            "phone": contact.phone if full_contact else mask_phone(contact.phone),
            "address": contact.address if full_contact else mask_address(contact.address),
        }
    return data


def event_json(e, names: dict[str, str] | None = None) -> dict[str, Any]:
    return {"at": e.at.isoformat(), "action": e.action, "actor": e.actor_id, "actor_kind": e.actor_kind,
            "actor_role": e.actor_role, "actor_name": (names or {}).get(e.actor_id) or actor_label(e),
            "from_state": e.from_state, "to_state": e.to_state, "note": e.note, "fields": json.loads(e.fields or "{}")}


def actor_label(e, resident_name: str | None = None) -> str:
    """Who did it, as staff read it without a lookup: 居民 with the openid's last four characters (or the
    registered name), 系统, the partner's name."""
    if e.actor_kind == "resident":
        return f"居民 {resident_name}" if resident_name else f"居民（…{(e.actor_id or '')[-4:]}）"
    if e.actor_kind == "system":
        return "系统"
    if e.actor_kind == "partner":
        return f"合作系统 {e.actor_id}"
    return e.actor_id or ""


def actor_names(events, resident_name: str | None = None) -> dict[str, str]:
    """Names for the actors of some events: staff as 孙晓雨（社工） (one batch read), residents as 居民 …"""
    staff_ids = {e.actor_id for e in events if e.actor_kind not in ("resident", "system", "partner") and e.actor_id}
    found = bootstrap.staff().names(staff_ids) if staff_ids else {}
    names = {u: f"{user.display_name}（{ROLES.get(user.role, user.role)}）" for u, user in found.items()}
    for e in events:
        if e.actor_kind == "resident" and e.actor_id:
            names[e.actor_id] = actor_label(e, resident_name)
    return names


def serves(principal, request) -> bool:
    """Whether the principal works on the request (and so sees the resident's full contact)."""
    return bool(can(principal, "request.transition") or (
        principal.team_id and principal.team_id == request.team_id) or (
        principal.department_id and principal.department_id == request.department_id))


def view(principal, number: str) -> dict[str, Any]:
    request = load(principal, number)
    repo = bootstrap.requests()
    data = request_json(request, repo.contact(request) or _NoContact(), full_contact=serves(principal, request))
    timeline = list(repo.timeline(number))
    household = bootstrap.ports().household(request.account_id, request.openid) if (
        request.openid and request.account_id) else None
    names = actor_names(timeline, household.name if household else None)
    data["timeline"] = [event_json(e, names) for e in timeline]
    data["actions"] = sorted({a for (s, a) in TRANSITIONS if s == request.state})
    return data


class _NoContact:
    name = phone = address = None


def list_for(principal, *, community_id: str | None = None, state: str | None = None,
             category: str | None = None, team_id: str | None = None, limit: int = 20,
             cursor: str | None = None) -> dict[str, Any]:
    """A page of requests the principal may see, newest first."""
    if state and state not in STATE_NAMES:
        raise DeskError(f"未知的状态：{state}")
    if category:
        check_category(category)
    repo = bootstrap.requests()
    if principal.role == "team_member":
        if team_id and team_id != principal.team_id:
            raise NotFound("服务队不存在")
        page = repo.list_requests(team_id=principal.team_id, state=state, category=category, limit=limit,
                                  cursor=cursor)
    elif principal.role == "department":
        page = repo.list_requests(department_id=principal.department_id, state=state, category=category,
                                  limit=limit, cursor=cursor)
    else:
        community_id = community_key_for(principal, community_id)
        if team_id:
            if team_id not in bootstrap.ports().teams(community_id):  # another community's team: not here
                raise NotFound("服务队不存在")
            page = repo.list_requests(team_id=team_id, state=state, category=category, limit=limit, cursor=cursor)
        else:
            page = repo.list_requests(community_key=community_id, state=state, category=category, limit=limit,
                                      cursor=cursor)
    return {"items": [request_json(r) for r in page.items], "cursor": page.cursor}


def counts_for(principal, community_id: str) -> dict[str, Any]:
    allowed = communities_in_scope(principal)
    if principal.role in ("team_member", "department") or (allowed is not None and community_id not in allowed):
        raise NotFound("社区不存在")
    return {"community_id": community_id, "counts": bootstrap.requests().counts(community_id)}


def _apply(principal, number: str, plan: TransitionPlan) -> dict[str, Any]:
    """Write one planned change (with its audit event and notice) and answer the request's new view."""
    try:
        bootstrap.unit_of_work().commit(None, NO_REPLY, (Transition(plan),), bootstrap.now())
    except StaleState as exc:
        raise DeskError(f"纸条 {number} 刚被别人处理过，请刷新后再试", code="stale_state") from exc
    return view(principal, number)


def move(principal, number: str, action: str, note: str = "", team_id: str | None = None,
         department_id: str | None = None) -> dict[str, Any]:
    """One transition (accept, assign, start, complete, reject, cancel, reopen) by staff."""
    request = load(principal, number)
    to_state = TRANSITIONS.get((request.state, action), "")
    require(principal, "request.assign" if action == "assign" else transition_action(to_state), request)
    team, department = _assignee(request, team_id, department_id) if action == "assign" else (None, None)
    hours = 48
    if action == "reopen":
        hours = bootstrap.ports().policy(request.district_id, request.community_id).hours.get(request.category, 48)
    plan = plan_transition(bootstrap.requests().as_view(request), action, actor_of(principal), bootstrap.now(),
                           note, team=team, department=department, reopen_hours=hours)
    return _apply(principal, number, plan)


def _assignee(request, team_id: str | None, department_id: str | None):
    """(team, department) as (id, name) pairs: the one named, or the routing table's suggestion."""
    ports = bootstrap.ports()
    if team_id:
        name = ports.team_name(request.district_id, request.community_id, team_id, None)
        if name is None:
            raise DeskError(f"本社区没有服务队 {team_id}")
        return (team_id, name), None
    if department_id:
        name = ports.team_name(request.district_id, None, None, department_id)
        if name is None:
            raise DeskError(f"没有对接部门 {department_id}")
        return None, (department_id, name)
    name = ports.team_name(request.district_id, request.community_id, request.team_id, request.department_id)
    if request.team_id and name:
        return (request.team_id, name), None
    if request.department_id and name:
        return None, (request.department_id, name)
    raise DeskError("派单需要指定服务队（team_id）或对接部门（department_id）")


def recategorise(principal, number: str, category: str, note: str = "") -> dict[str, Any]:
    """Change the category; a request not yet assigned also takes the new category's route."""
    check_category(category)
    request = load(principal, number, "request.recategorise")
    ports = bootstrap.ports()
    policy = ports.policy(request.district_id, request.community_id)
    route = policy.routes.get(category) or policy.routes["other"]
    team = ports.team_of_kind(request.community_id, route.team_kind) if (
        route.team_kind and request.community_id) else None
    plan = plan_recategorise(bootstrap.requests().as_view(request), actor_of(principal), bootstrap.now(), category,
                             policy, team, note)
    return _apply(principal, number, plan)


def add_note(principal, number: str, note: str) -> dict[str, Any]:
    if not (note or "").strip():
        raise DeskError("备注不能为空")
    request = load(principal, number, "request.note")
    plan = plan_note(bootstrap.requests().as_view(request), actor_of(principal), bootstrap.now(), note)
    return _apply(principal, number, plan)


def file_for_resident(principal, community_id: str, text: str, category: str | None = None,
                      contact: dict[str, str] | None = None, grid: str | None = None, via: str | None = None,
                      consent: bool | None = None, meal: dict | None = None,
                      resident_request: str | None = None) -> dict[str, Any]:
    """A request taken by phone, at the door or on a grid visit (`via`; the resident may have no WeChat): the
    one filing path. From the console's form (`via` given), a phone or address is kept only with the
    resident's consent ticked; `meal` names the day and meal of a meal order."""
    if not text or not text.strip():
        raise DeskError("请写下居民的需求")
    if via and not consent and any((contact or {}).get(k) for k in ("phone", "address")):
        raise DeskError("留电话或地址需要居民同意：请先征得同意并勾选", code="consent_required")
    account = bootstrap.ports().community_account(community_id)
    if account is None:
        raise NotFound("社区不存在")
    require(principal, "request.file", Scoped(community_id, None, None, account.district_id))
    if grid and grid not in bootstrap.ports().community_grids(community_id):
        raise DeskError(f"网格 {grid} 不属于该社区")
    openid = None
    if resident_request:  # the resident's earlier 便民纸条 from WeChat: tell them there this time too
        earlier = load(principal, resident_request)
        if not earlier.openid or earlier.account_id != account.account_id:
            raise DeskError(f"纸条 {resident_request} 不是居民在本社区公众号提交的，无法通过微信告知")
        openid = earlier.openid
    filed = filing.file_need(account, filing.Need(openid=openid,
        text=text.strip(), channel=via or "staff", category=category, grid=grid, actor=principal.username,
        contact={k: str(v) for k, v in (contact or {}).items() if v},
        meal={"portions": 1, **meal} if meal else None))
    return view(principal, filed.number)


def suggest_for_resident(principal, community_id: str, text: str) -> dict[str, Any]:
    """What filing would make of the words, as chat does: the category (and its team), and a meal order's
    day, meal and portions — for the console's form to propose before staff file."""
    account = bootstrap.ports().community_account(community_id)
    if account is None:
        raise NotFound("社区不存在")
    require(principal, "request.file", Scoped(community_id, None, None, account.district_id))
    ports, now = bootstrap.ports(), bootstrap.now()
    policy = ports.policy(account.district_id, community_id)
    words = normalise(text or "")
    category = classify(words, policy) if words else "other"
    route = policy.routes.get(category) or policy.routes["other"]
    team = ports.team_of_kind(community_id, route.team_kind) if route.team_kind else None
    meal = None
    if category == "meal_delivery":
        order = read_meal_order(words, local_date(now))
        meal = {"day": order["day"] or (local_date(now) + timedelta(days=1)).isoformat(), "meal": order["meal"],
                "portions": order["portions"]}
    return {"category": category, "category_name": CATEGORIES.get(category, category),
            "team": {"id": team[0], "name": team[1]} if team else None, "meal": meal}


def community_key_for(principal, community_id: str | None) -> str:
    """The community a community-level list is about: the one named (if in scope) or the principal's own."""
    allowed = communities_in_scope(principal)
    if principal.role in ("team_member", "department"):
        raise NotFound("社区不存在")
    if community_id is None:
        if allowed is None or len(allowed) != 1:
            raise DeskError("请指定社区（community）")
        community_id = next(iter(allowed))
    if allowed is not None and community_id not in allowed:
        raise NotFound("社区不存在")
    return community_id


def overdue_for(principal, community_id: str | None) -> dict[str, Any]:
    """Open requests past their expected time, in one community the principal may see."""
    key = community_key_for(principal, community_id)
    found = bootstrap.requests().overdue(principal.district_id, bootstrap.now(), key)
    return {"items": [request_json(r) for r in found]}


def audit_for(principal, community_id: str | None, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """The community's audit log: every event of its requests, newest first (read-only, append-only)."""
    key = community_key_for(principal, community_id)
    require(principal, "audit.view", Scoped(key, None, None, principal.district_id))
    page = bootstrap.requests().community_events(key, limit=limit, cursor=cursor)
    names = actor_names(page.items)
    return {"items": [{"number": e.number, **event_json(e, names)} for e in page.items], "cursor": page.cursor}
