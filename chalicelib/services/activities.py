"""Community activities' use cases (社区活动): staff create them and keep the list (attendance, export);
residents sign up and cancel on the H5 page (the chat does the same through the router); the
`activity-reminders` job reminds those signed up the day before, through the outbox.
"""
from __future__ import annotations

import csv
import hashlib
import io
from types import SimpleNamespace
from typing import Any

from chalicelib import bootstrap, log
from chalicelib.auth.principal import Principal
from chalicelib.auth.scope import communities_in_scope, require
from chalicelib.domain.activities import (
    SELF,
    SIGNUP_STATES,
    ActivityView,
    SignupRefused,
    activity_scope,
    check_activity,
    plan_cancel,
    plan_signup,
    reminder_text,
    signup_key,
    tomorrow_window,
)
from chalicelib.domain.effects import Notify, declined_effects
from chalicelib.domain.errors import BadRequest, ConflictError, Duplicate, NotFound, Refused, StaleState
from chalicelib.domain.messages import NO_REPLY

LOG = log.get_logger("activities")


def _scope_obj(district_id: str, community_id: str | None):
    return SimpleNamespace(district_id=district_id, community_id=community_id, team_id=None, department_id=None)


def _activity_json(a: ActivityView) -> dict[str, Any]:
    return {"id": a.activity_id, "title": a.title, "community_id": a.community_id, "place": a.place,
            "starts_at": a.starts_at.isoformat(), "signup_deadline": a.signup_deadline.isoformat(),
            "capacity": a.capacity, "taken": a.taken, "audience": a.audience,
            "relatives_allowed": a.relatives_allowed, "state": a.state, "description": a.description}


def _load(principal: Principal, activity_id: str) -> ActivityView:
    view = bootstrap.alliance().activity(activity_id)
    if view is None:
        raise NotFound("活动不存在")
    require(principal, "activity.manage", _scope_obj(view.district_id, view.community_id))
    return view


# ---- staff -----------------------------------------------------------------------------------------

def create(principal: Principal, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("请求内容应为JSON对象", code="bad_json")
    community_id = body.get("community_id") or principal.community_id
    if community_id == "district":
        community_id = None
    require(principal, "activity.manage", _scope_obj(principal.district_id, community_id))
    fields = check_activity(body, bootstrap.now())
    return _activity_json(bootstrap.alliance().create_activity(fields, principal.district_id, community_id,
                                                               principal.username))


def listing(principal: Principal, community_id: str | None) -> dict[str, Any]:
    allowed = communities_in_scope(principal)
    community_id = community_id or principal.community_id
    if community_id == "district":
        community_id = None
    if community_id is not None and allowed is not None and community_id not in allowed:
        raise NotFound("社区不存在")
    require(principal, "activity.manage", _scope_obj(principal.district_id, community_id))
    found = bootstrap.alliance().activities_of(activity_scope(principal.district_id, community_id))
    return {"items": [_activity_json(a) for a in found]}


def public_key(key: str) -> str:
    """A sign-up's id for staff (the stored key holds the openid, which staff lists never show)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _mask(openid: str) -> str:
    return openid[:4] + "…" + openid[-2:] if len(openid) > 8 else "…"


def signups(principal: Principal, activity_id: str) -> dict[str, Any]:
    activity = _load(principal, activity_id)
    rows = []
    for s in bootstrap.alliance().signup_rows(activity_id):
        rows.append({"key": public_key(s["key"]), "person": s["person"], "resident": _mask(s["openid"]),
                     "account_id": s["account_id"], "state": s["state"],
                     "state_name": SIGNUP_STATES.get(s["state"], s["state"]), "queue_key": s["queue_key"],
                     "attended": s["attended"], "created_at": s["created_at"].isoformat()})
    order = {"confirmed": 0, "waiting": 1, "cancelled": 2}
    rows.sort(key=lambda r: (order.get(r["state"], 3), r["queue_key"] or r["created_at"]))
    for n, r in enumerate([r for r in rows if r["state"] == "waiting"], start=1):
        r["position"] = n
    for r in rows:
        r.pop("queue_key")
    return {"activity": _activity_json(activity), "items": rows}


def signups_csv(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["活动", "报名人", "居民", "状态", "候补顺序", "签到", "报名时间"])
    for r in data["items"]:
        writer.writerow([data["activity"]["title"], r["person"], r["resident"], r["state_name"], r.get("position", ""),
                         {True: "已到", False: "未到", None: ""}[r["attended"]], r["created_at"]])
    return "\ufeff" + out.getvalue()  # a BOM: Excel opens Chinese CSV right


def mark_attendance(principal: Principal, activity_id: str, body: Any) -> dict[str, Any]:
    _load(principal, activity_id)
    if not isinstance(body, dict) or not isinstance(body.get("key"), str) or not isinstance(body.get("attended"), bool):
        raise BadRequest("需要 key（报名编号）和 attended（true 或 false）", code="missing_field")
    signup = next((s for s in bootstrap.alliance().signup_rows(activity_id) if public_key(s["key"]) == body["key"]),
                  None)
    if signup is None:
        raise NotFound("没有这个报名")
    if signup["state"] != "confirmed":
        raise ConflictError("只有正式报名的居民可以签到", code="not_confirmed")
    bootstrap.alliance().mark_attended(activity_id, signup["key"], body["attended"])
    return {"key": body["key"], "attended": body["attended"]}


# ---- residents (H5; the chat goes through the router) ----------------------------------------------

def _commit(reply: str, effects: tuple) -> str:
    """Commit a resident's sign-up or cancellation; a refused place becomes a waiting-list place."""
    unit_of_work = bootstrap.unit_of_work()
    now = bootstrap.now()
    try:
        unit_of_work.commit(None, NO_REPLY, effects, now)
        return reply
    except Refused as refused:
        unit_of_work.commit(None, NO_REPLY, declined_effects(effects, True), now)
        return refused.reply
    except StaleState:
        return "报名情况刚有变化，请刷新页面后再试。"


def resident_activities(account, openid: str | None) -> dict[str, Any]:
    ports = bootstrap.ports()
    now = bootstrap.now()
    upcoming = ports.upcoming_activities(account.district_id, account.community_id, now)
    mine = {s.activity_id: s for s in ports.signups_of(account.account_id, openid)} if openid else {}
    return {"now": now, "items": [(a, mine.get(a.activity_id)) for a in upcoming]}


def sign_up(account, openid: str, activity_id: str, person: str = SELF) -> str:
    ports = bootstrap.ports()
    activity = ports.activity(activity_id)
    if activity is None:
        raise NotFound("活动不存在")
    activity = next((a for a in ports.upcoming_activities(account.district_id, account.community_id,
                                                          bootstrap.now()) if a.activity_id == activity_id), None)
    if activity is None:
        raise NotFound("这个活动不在本社区，或已经结束")
    person = person.strip()[:20] or SELF
    key = signup_key(account.account_id, openid, person)
    try:
        reply, effects = plan_signup(activity, account.account_id, openid, person, ports.signup(activity_id, key),
                                     bootstrap.now(), relative=person != SELF)
    except SignupRefused as exc:
        return str(exc)
    return _commit(reply, effects)


def cancel(account, openid: str, activity_id: str, person: str = SELF) -> str:
    ports = bootstrap.ports()
    activity = ports.activity(activity_id)
    signup = ports.signup(activity_id, signup_key(account.account_id, openid, person or SELF))
    if activity is None or signup is None or signup.state == "cancelled":
        raise NotFound("没有找到您的这个报名")
    first = ports.first_waiting(activity_id) if signup.state == "confirmed" else None
    reply, effects = plan_cancel(activity, signup, first, bootstrap.now())
    return _commit(reply, effects)


# ---- the job ---------------------------------------------------------------------------------------

def remind_tomorrow(district_id: str) -> dict[str, int]:
    """`activity-reminders`: everyone signed up for an activity of tomorrow (Shanghai) gets one reminder.

    Each reminder is committed with its own delivery key (activity, sign-up), so a second run — or a
    Lambda retry — sends nothing twice."""
    now = bootstrap.now()
    start, end = tomorrow_window(now)
    unit_of_work = bootstrap.unit_of_work()
    counts = {"activities": 0, "reminded": 0, "already": 0, "failed": 0}
    for view in bootstrap.alliance().activities_between(district_id, start, end):
        if view.state != "open":
            continue
        counts["activities"] += 1
        for s in bootstrap.alliance().confirmed_signups(view.activity_id):
            notice = Notify(s.account_id, s.openid, "activity_reminder", reminder_text(view, s.person, now),
                            {"title": view.title, "time": view.when(now), "place": view.place})
            try:
                unit_of_work.commit(f"reminder#{view.activity_id}#{s.signup_key}", NO_REPLY, (notice,), now)
                counts["reminded"] += 1
            except Duplicate:
                counts["already"] += 1
            except bootstrap.storage_errors() as exc:  # the next run tries again: nothing is marked sent
                counts["failed"] += 1
                log.event(LOG, "reminder not committed", error=type(exc).__name__, activity=view.activity_id)
    log.event(LOG, "activity reminders", **counts)
    return counts
