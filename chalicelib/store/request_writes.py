"""The records a new 便民纸条 or a transition writes, inside the caller's transaction.

Filing: the request, its first audit event, its duplicate guard (conditional), its contact details
(apart) and the community's count of submitted requests. A transition: the request (conditional on the
state it was planned from), an audit event, the counts of both states, the guard released when the
request leaves the open states, and the resident's notice.
"""
from __future__ import annotations

import json
import secrets
from datetime import datetime

from pynamodb.exceptions import DeleteError

from chalicelib.domain.bulletin import tally_filed
from chalicelib.domain.dates import local_date
from chalicelib.domain.effects import NewRequest, Notify
from chalicelib.domain.requests import DUPLICATE_WINDOW, OPEN_STATES, TransitionPlan
from chalicelib.store.community_months import write_tally
from chalicelib.store.counters import Counter
from chalicelib.store.requests import HelpRequest, RequestContact, RequestEvent, RequestGuard, list_keys


def community_key(district_id: str, community_id: str | None) -> str:
    return community_id or f"district#{district_id}"


def count_id(key: str, state: str) -> str:
    """Dashboard counts kept at write time: requests of a community in a state."""
    return f"count#{key}#{state}"


def event_id(at: datetime) -> str:
    return f"{at.isoformat(timespec='microseconds')}#{secrets.token_hex(3)}"


def write_new_request(tx, r: NewRequest, now: datetime) -> None:

    key = community_key(r.district_id, r.community_id)
    tx.save(HelpRequest(
        r.number, district_id=r.district_id, community_id=r.community_id, community_key=key,
        account_id=r.account_id, openid=r.openid, resident_key=f"{r.account_id}#{r.openid}" if r.openid else None,
        channel=r.channel, text=r.text or "（空）", media_id=r.media_id, category=r.category, state="submitted",
        team_id=r.team_id, department_id=r.department_id, grid=r.grid,
        details=json.dumps(r.details, ensure_ascii=False), guard_key=r.guard_key, due_at=r.due_at,
        sla_open=r.district_id if r.due_at else None, sla_escalate=r.district_id if r.due_at else None,
        escalate_at=r.due_at, partner=r.partner, delivery_key=r.delivery_key, profile_id=r.profile_id,
        flags=list(r.flags) or None,
        created_at=now, updated_at=now, **list_keys(key, "submitted", r.team_id, r.department_id, r.category),
        due_community=key if r.due_at else None),
        "request", condition=HelpRequest.number.does_not_exist())
    actor_kind = r.actor if r.actor in ("resident", "partner") else "staff"
    tx.save(RequestEvent(r.number, event_id(now), community_key=key, action="file", actor_kind=actor_kind,
                         actor_id=r.partner or r.openid or r.actor, to_state="submitted",
                         fields=json.dumps({"category": r.category, "team_id": r.team_id,
                                            "department_id": r.department_id, "channel": r.channel,
                                            **({"flags": list(r.flags)} if r.flags else {})},
                                           ensure_ascii=False), at=now),
            "event", condition=RequestEvent.event_id.does_not_exist())
    if r.guard_key:
        tx.save(RequestGuard(r.guard_key, number=r.number, expires_at=now + DUPLICATE_WINDOW), "guard", r.guard_key,
                condition=RequestGuard.guard_key.does_not_exist() | (RequestGuard.expires_at < now))
    if any(r.contact.values()):
        tx.save(RequestContact(r.number, **{k: v for k, v in r.contact.items() if k in ("name", "phone", "address")}),
                "contact")
    tx.update(Counter(count_id(key, "submitted")), "count", actions=[Counter.value.add(1)])
    write_tally(tx, key, tally_filed(local_date(now)))  # the month's 便民纸条 figures (bulletin, overview)


def write_transition(tx, plan: TransitionPlan) -> Notify | None:

    request = HelpRequest(plan.number)
    actions = [HelpRequest.state.set(plan.to_state), HelpRequest.updated_at.set(plan.at)]
    for name, value in plan.set_fields.items():
        attribute = getattr(HelpRequest, name)
        actions.append(attribute.set(value) if value is not None else attribute.remove())
    leaving = plan.to_state not in OPEN_STATES
    if leaving:
        actions += [HelpRequest.sla_open.remove(), HelpRequest.sla_escalate.remove(),
                    HelpRequest.escalate_at.remove(), HelpRequest.guard_key.remove(), HelpRequest.due_community.remove()]
    elif "sla_open" in plan.set_fields:  # reopened: back on the community's overdue list
        actions.append(HelpRequest.due_community.set(community_key(plan.district_id, plan.community_id)))
    if plan.routing is not None:  # the state or the routing moves: so do the list indexes' keys
        team_id, department_id, category = plan.routing
        fields = plan.set_fields
        keys = list_keys(community_key(plan.district_id, plan.community_id), plan.to_state,
                         fields.get("team_id", team_id), fields.get("department_id", department_id),
                         fields.get("category", category))
        actions += [getattr(HelpRequest, name).set(value) if value else getattr(HelpRequest, name).remove()
                    for name, value in keys.items()]
    condition = HelpRequest.number.exists() & (HelpRequest.state == plan.from_state)
    if plan.expect_escalation is not None:
        condition &= (HelpRequest.escalation == plan.expect_escalation) if plan.expect_escalation else (
            HelpRequest.escalation.does_not_exist() | (HelpRequest.escalation == 0))
    tx.update(request, "transition", plan.number, actions=actions, condition=condition)
    tx.save(RequestEvent(plan.number, event_id(plan.at), community_key=community_key(plan.district_id,
                                                                                     plan.community_id),
                         action=plan.action, actor_kind=plan.actor.kind,
                         actor_id=plan.actor.id, actor_role=plan.actor.role, from_state=plan.from_state,
                         to_state=plan.to_state, note=plan.note,
                         fields=json.dumps({**plan.set_fields, **plan.audit_fields}, ensure_ascii=False,
                                           default=str), at=plan.at),
            "event", condition=RequestEvent.event_id.does_not_exist())
    if plan.contact:
        tx.save(RequestContact(plan.number, **{k: v for k, v in plan.contact.items()
                                               if k in ("name", "phone", "address") and v}), "contact")
    if plan.from_state != plan.to_state:
        key = community_key(plan.district_id, plan.community_id)
        tx.update(Counter(count_id(key, plan.from_state)), "count", actions=[Counter.value.add(-1)])
        tx.update(Counter(count_id(key, plan.to_state)), "count", actions=[Counter.value.add(1)])
    if plan.tally or plan.overdue_delta:  # the month's figures and the open overdue count (bulletin, overview)
        key = community_key(plan.district_id, plan.community_id)
        write_tally(tx, key, plan.tally)
        if plan.overdue_delta:
            tx.update(Counter(count_id(key, "overdue")), "count", actions=[Counter.value.add(plan.overdue_delta)])
    if plan.release_capacity:
        counter_id, portions = plan.release_capacity
        tx.update(Counter(counter_id), "capacity-release", actions=[Counter.value.add(-portions)])
    if leaving and plan.guard_key:
        tx.after.append(lambda: release_guard(plan.guard_key, plan.number))
    return plan.notice


def release_guard(guard_key: str, number: str) -> None:
    """After a request leaves the open states, its guard no longer points residents to it. Done after
    the transaction and only if the guard is still this request's (a newer request may hold it)."""


    try:
        RequestGuard(guard_key).delete(condition=RequestGuard.number == number)
    except DeleteError:
        pass  # held by a newer request, or already gone: both fine
