"""The people repository (人员与账号): staff accounts by scope, their changes with an audit event in one
transaction, login-failure counts, service teams, WeChat binding codes and the binding itself.

Every access is a GetItem, a Query on a key or the `by_scope` index, or a (transactional) conditional write.
"""
from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any, Iterable

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.errors import ConflictError, NotFound
from chalicelib.domain.limits import LOGIN_FAILURE_WINDOW, login_failure_key
from chalicelib.domain.vocabulary import ROLES
from chalicelib.store.staff import StaffEvent, StaffUser
from chalicelib.store.staff_alerts import BindCode, StaffAlert
from chalicelib.store import windows
from chalicelib.store.base import transaction_connection
from chalicelib.store.org import Department, SubDistrict
from chalicelib.store.requests import HelpRequest, RequestEvent
from chalicelib.store.teams import Team

BIND_REFUSED = "绑定码无效或已过期，请在社区工作台重新获取。"


def _event_id(at: datetime) -> str:
    return f"{at.isoformat(timespec='microseconds')}#{secrets.token_hex(3)}"


def _event(username: str, action: str, actor, fields: dict, at: datetime) -> StaffEvent:
    return StaffEvent(username, _event_id(at), action=action, actor=actor.username, actor_name=actor.display_name,
                      actor_role=actor.role, fields=json.dumps(fields, ensure_ascii=False, default=str), at=at)


def get(username: str, consistent: bool = True) -> StaffUser | None:
    try:
        return StaffUser.get(username, consistent_read=consistent)
    except StaffUser.DoesNotExist:
        return None


def in_scope(scope_key: str) -> list[StaffUser]:
    """Every account bound to one scope key (`community#…`, `team#…`, …): one Query."""
    return list(StaffUser.by_scope.query(scope_key))


def names(usernames: Iterable[str]) -> dict[str, StaffUser]:
    """Accounts by username (one BatchGetItem per hundred): the audit log's names."""
    wanted = sorted({u for u in usernames if u})
    return {u.username: u for u in StaffUser.batch_get(wanted)} if wanted else {}


def create(values: dict[str, Any], password_hash: str, actor, at: datetime) -> StaffUser:
    """A new account and its audit event; `ConflictError` when the username is taken."""
    user = StaffUser(values["username"], password_hash=password_hash, updated_at=at, token_version=0,
                     must_change_password=True, created_by=actor.username,
                     **{k: v for k, v in values.items() if k != "username"})
    fields = {k: v for k, v in values.items() if k != "username" and v is not None}
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.save(user, condition=StaffUser.username.does_not_exist())
            tx.save(_event(user.username, "create", actor, fields, at))
    except TransactWriteError as exc:
        reasons = [getattr(r, "code", None) for r in (getattr(exc, "cancellation_reasons", None) or [])]
        if "ConditionalCheckFailed" in reasons:
            raise ConflictError(f"账号 {user.username} 已存在") from exc
        raise
    return user


def change(user: StaffUser, action: str, actor, at: datetime, sets: dict[str, Any] | None = None,
           removes: Iterable[str] = (), revoke_tokens: bool = False, new_epoch: bool = False,
           fields: dict | None = None) -> StaffUser:
    """One change of an account (conditional on its token version: nobody changed it meanwhile) with its audit
    event, in one transaction; `ConflictError` when it changed meanwhile."""
    actions = [StaffUser.updated_at.set(at)]
    for name, value in (sets or {}).items():
        actions.append(getattr(StaffUser, name).set(value))
    for name in removes:
        actions.append(getattr(StaffUser, name).remove())
    if revoke_tokens:
        actions.append(StaffUser.token_version.add(1))
    if new_epoch:
        actions.append(StaffUser.login_epoch.add(1))
    version = int(user.token_version or 0)
    same = StaffUser.token_version == version
    if version == 0:
        same = same | StaffUser.token_version.does_not_exist()
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.update(StaffUser(user.username), actions=actions, condition=StaffUser.username.exists() & same)
            tx.save(_event(user.username, action, actor, fields or {}, at))
    except TransactWriteError as exc:
        reasons = [getattr(r, "code", None) for r in (getattr(exc, "cancellation_reasons", None) or [])]
        if "ConditionalCheckFailed" in reasons:
            raise ConflictError("该账号刚被修改过，请刷新后再试") from exc
        raise
    return get(user.username)


def events(username: str, limit: int = 20) -> list[StaffEvent]:
    return list(StaffEvent.query(username, scan_index_forward=False, limit=limit))


def recent_failures(users: list[tuple[str, int]], at: datetime) -> dict[str, int]:
    """Recent failed logins per username (from anywhere, this unlock generation): one BatchGetItem."""
    keys = {username: f"login-fail#{login_failure_key(username, epoch)}" for username, epoch in users}
    if not keys:
        return {}
    counts = windows.recent(list(keys.values()), at, LOGIN_FAILURE_WINDOW)
    return {username: counts[key] for username, key in keys.items()}


def subdistricts(district_id: str) -> list[SubDistrict]:
    return list(SubDistrict.query(district_id))


def departments(district_id: str) -> list[Department]:
    return list(Department.query(district_id))


# ---- service teams ---------------------------------------------------------------------------------

def team(community_id: str, team_id: str) -> Team | None:
    try:
        return Team.get(community_id, team_id)
    except Team.DoesNotExist:
        return None


def create_team(community_id: str, team_id: str, kind: str, name: str, at: datetime) -> Team:
    item = Team(community_id, team_id, kind=kind, name=name, updated_at=at)
    try:
        item.save(condition=Team.team_id.does_not_exist())
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise ConflictError(f"服务队 {team_id} 已存在") from exc
        raise
    return item


# ---- WeChat binding and alert preferences ----------------------------------------------------------

def save_code(code_hash: str, username: str, at: datetime, expires_at: datetime) -> None:
    BindCode(code_hash, username=username, created_at=at, expires_at=expires_at).save()


def code_owner(code_hash: str, at: datetime) -> StaffUser | None:
    """The active account a live code belongs to, or None."""
    try:
        code = BindCode.get(code_hash, consistent_read=True)
    except DoesNotExist:
        return None
    if code.expires_at <= at:
        return None
    user = get(code.username)
    return user if user is not None and user.deactivated_at is None else None


class StaffReads:
    """The router's port for binding (mixed into `store.ports.DynamoPorts`)."""

    def staff_for_code(self, code_hash: str, now: datetime) -> tuple[str, str] | None:
        user = code_owner(code_hash, now)
        return (user.username, f"{user.display_name}（{ROLES.get(user.role, user.role)}）") if user else None


def write_binding(tx, effect, now: datetime) -> None:
    """Inside the chat callback's transaction: use up the code (it must still be there and live) and bind."""
    tx.delete(BindCode(effect.code_hash), "bind", BIND_REFUSED,
              condition=BindCode.code_hash.exists() & (BindCode.expires_at > now) & (BindCode.username == effect.username))
    tx.update(StaffUser(effect.username), "bind", BIND_REFUSED,
              actions=[StaffUser.wechat_account_id.set(effect.account_id), StaffUser.wechat_openid.set(effect.openid),
                       StaffUser.wechat_bound_at.set(now)],
              condition=StaffUser.username.exists() & StaffUser.deactivated_at.does_not_exist())


def unbind(username: str, at: datetime) -> None:
    try:
        StaffUser(username).update(actions=[StaffUser.wechat_account_id.remove(), StaffUser.wechat_openid.remove(),
                                            StaffUser.wechat_bound_at.remove(), StaffUser.updated_at.set(at)],
                                   condition=StaffUser.username.exists())
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise NotFound("账号不存在") from exc
        raise


def set_alert_kinds(username: str, kinds: list[str], at: datetime) -> None:
    StaffUser(username).update(actions=[StaffUser.alert_kinds.set(kinds), StaffUser.updated_at.set(at)],
                               condition=StaffUser.username.exists())


# ---- alert entries and windows (the staff-alerts job) ---------------------------------------------

def alert_entries(window: str) -> list[StaffAlert]:
    """A window's entries (one Query), the `~done` marker among them."""
    return list(StaffAlert.query(window, consistent_read=True))


def mark_window_done(window: str, at: datetime, expires_at: datetime) -> None:
    StaffAlert(window, "~done", kind="done", at=at, expires_at=expires_at).save()


def save_alert(item: StaffAlert) -> None:
    item.save()


def request_events_between(community_keys: Iterable[str], start: datetime, end: datetime) -> list[RequestEvent]:
    """The audit events of these communities in [start, end): one Query per community on `by_community`
    (its range key begins with the event's UTC time)."""
    low, high = start.isoformat(timespec="microseconds"), end.isoformat(timespec="microseconds")
    return [e for key in community_keys for e in RequestEvent.by_community.query(
        key, RequestEvent.event_id.between(low, high)) if e.event_id < high]


def requests_by_number(numbers: Iterable[str]) -> dict[str, HelpRequest]:
    wanted = sorted(set(numbers))
    return {r.number: r for r in HelpRequest.batch_get(wanted)} if wanted else {}


__all__ = ["BIND_REFUSED", "StaffReads", "alert_entries", "change", "code_owner", "create", "create_team",
           "departments", "events", "get", "in_scope", "mark_window_done", "names", "recent_failures",
           "request_events_between", "requests_by_number", "save_alert", "save_code", "set_alert_kinds",
           "subdistricts", "team", "unbind", "write_binding"]
