"""People and accounts (人员与账号): the district admin manages every account, a director the social workers and
service-team members of their community. Create with a one-time password (changed at first sign-in),
deactivate (tokens refused at once), reset a password, unlock, change a role; service teams per community.
Every change is written with its audit event in one transaction; nobody manages themselves
(`auth.scope.MANAGED_ROLES`, `require_manage`).
"""
from __future__ import annotations

import json
import secrets
import string
from typing import Any

from chalicelib import bootstrap
from chalicelib.auth.scope import MANAGED_ROLES, can_manage, require, require_manage
from chalicelib.domain.errors import BadRequest, ConflictError, Forbidden, NotFound
from chalicelib.domain.limits import LOGIN_PAIR_LIMIT
from chalicelib.domain.patterns import lazy_re
from chalicelib.domain.records import record
from chalicelib.domain.vocabulary import ROLE_SCOPE, ROLES, TEAM_KINDS

USERNAME = lazy_re(r"[a-z0-9][a-z0-9._-]{2,63}")
PASSWORD_ALPHABET = string.ascii_letters + string.digits
ACTIONS = {"deactivate": "停用", "reactivate": "恢复", "reset_password": "重置密码", "unlock": "解锁",
           "change_role": "改角色", "create": "新建"}


@record
class Target:
    """An account as scope checks see it (an existing one, or one about to be made or changed)."""

    username: str
    role: str
    district_id: str
    community_id: str | None = None
    subdistrict_id: str | None = None
    team_id: str | None = None
    department_id: str | None = None


def one_time_password() -> str:
    """Twelve letters and digits, with at least one of each kind (shown once, to the manager)."""
    while True:
        value = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(12))
        if any(c.isdigit() for c in value) and any(c.islower() for c in value) and any(c.isupper() for c in value):
            return value


def label(user) -> str:
    """孙晓雨（社工）: how staff are named to staff."""
    return f"{user.display_name}（{ROLES.get(user.role, user.role)}）"


def _target(user) -> Target:
    return Target(user.username, user.role, user.district_id, user.community_id, user.subdistrict_id, user.team_id,
                  user.department_id)


def _load(principal, username: str):
    user = bootstrap.staff().get(username)
    if user is None:
        raise NotFound("账号不存在")
    if principal.role != "district_admin" and user.community_id != principal.community_id:
        raise NotFound("账号不存在")
    return user


def user_json(principal, user, failures: int = 0) -> dict[str, Any]:
    now = bootstrap.now()
    locked = failures >= LOGIN_PAIR_LIMIT or bool(user.locked_until and user.locked_until > now)
    return {"username": user.username, "display_name": user.display_name, "label": label(user), "role": user.role,
            "role_name": ROLES.get(user.role, user.role), "community_id": user.community_id,
            "subdistrict_id": user.subdistrict_id, "team_id": user.team_id, "department_id": user.department_id,
            "active": user.deactivated_at is None, "must_change_password": bool(user.must_change_password),
            "recent_failures": failures, "locked": locked, "wechat_bound": bool(user.wechat_openid),
            "manageable": can_manage(principal, _target(user))}


def _scope_keys(principal, community_id: str | None) -> tuple[str | None, list[str]]:
    """(community, the scope keys to list): a community's staff and its teams' members, or (district admin,
    no community) the district's own accounts: admins, sub-district reviewers, departments."""
    directory = bootstrap.directory()
    if principal.role != "district_admin":
        if community_id and community_id != principal.community_id:
            raise NotFound("社区不存在")
        community_id = principal.community_id
        if not community_id:
            raise Forbidden()
    if community_id:
        if directory.community(community_id) is None:
            raise NotFound("社区不存在")
        return community_id, [f"community#{community_id}"] + [f"team#{t.team_id}"
                                                                 for t in directory.teams_of(community_id)]
    staff = bootstrap.staff()
    keys = [f"district#{principal.district_id}"]
    keys += [f"subdistrict#{s.subdistrict_id}" for s in staff.subdistricts(principal.district_id)]
    keys += [f"department#{d.department_id}" for d in staff.departments(principal.district_id)]
    return None, keys


def list_staff(principal, community_id: str | None = None) -> dict[str, Any]:
    """The accounts the principal manages (a community's, or the district's own), with their state."""
    require(principal, "staff.manage")
    community_id, keys = _scope_keys(principal, community_id)
    staff, now = bootstrap.staff(), bootstrap.now()
    users = [u for key in keys for u in staff.in_scope(key)]
    failures = staff.recent_failures([(u.username, int(u.login_epoch or 0)) for u in users], now)
    items = sorted((user_json(principal, u, failures.get(u.username, 0)) for u in users),
                   key=lambda x: (list(ROLES).index(x["role"]) if x["role"] in ROLES else 99, x["username"]))
    data: dict[str, Any] = {"community_id": community_id, "items": items,
                            "roles": {r: ROLES[r] for r in sorted(MANAGED_ROLES.get(principal.role, ()),
                                                                  key=list(ROLES).index)}}
    if community_id:
        data["teams"] = [{"id": t.team_id, "name": t.name, "kind": t.kind, "kind_name": TEAM_KINDS.get(t.kind, t.kind)}
                         for t in bootstrap.directory().teams_of(community_id)]
    else:
        data["subdistricts"] = [{"id": s.subdistrict_id, "name": s.name} for s in staff.subdistricts(principal.district_id)]
        data["departments"] = [{"id": d.department_id, "name": d.name} for d in staff.departments(principal.district_id)]
    return data


def view_staff(principal, username: str) -> dict[str, Any]:
    require(principal, "staff.manage")
    user = _load(principal, username)
    if user.username != principal.username:
        require_manage(principal, _target(user))
    staff = bootstrap.staff()
    failures = staff.recent_failures([(user.username, int(user.login_epoch or 0))], bootstrap.now())
    data = user_json(principal, user, failures.get(user.username, 0))
    data["history"] = [{"at": e.at.isoformat(), "action": e.action, "action_name": ACTIONS.get(e.action, e.action),
                        "actor": e.actor, "actor_label": f"{e.actor_name}（{ROLES.get(e.actor_role, e.actor_role)}）"
                        if e.actor_name else e.actor, "fields": json.loads(e.fields or "{}")}
                       for e in staff.events(user.username)]
    return data


def _scope_of(principal, role: str, body: dict[str, Any], current=None) -> dict[str, Any]:
    """The scope fields of an account with `role`, checked against the directory; a director's are their own."""
    if role not in ROLES:
        raise BadRequest(f"未知的角色：{role}", code="invalid_field")
    directory, staff = bootstrap.directory(), bootstrap.staff()
    scope = {"community_id": None, "subdistrict_id": None, "team_id": None, "department_id": None}
    need = ROLE_SCOPE[role]
    community_id = body.get("community_id") or (current.community_id if current else None)
    if principal.role != "district_admin":
        if body.get("community_id") and body["community_id"] != principal.community_id:
            raise NotFound("社区不存在")
        community_id = principal.community_id
    if need == "community_id" or need == "team_id":
        if not community_id:
            raise BadRequest("请选择社区（community_id）", code="missing_field")
        community = directory.community(community_id)
        if community is None:
            raise NotFound("社区不存在")
        scope["community_id"] = community_id
        scope["subdistrict_id"] = community.subdistrict_id
    if need == "team_id":
        team_id = body.get("team_id") or (current.team_id if current else None)
        if not team_id or staff.team(community_id, team_id) is None:
            raise BadRequest("请选择本社区的服务队（team_id）", code="missing_field")
        scope["team_id"] = team_id
    if need == "subdistrict_id":
        subdistrict_id = body.get("subdistrict_id")
        if not subdistrict_id or subdistrict_id not in {s.subdistrict_id for s in staff.subdistricts(principal.district_id)}:
            raise BadRequest("请选择街道（subdistrict_id）", code="missing_field")
        scope["subdistrict_id"] = subdistrict_id
    if need == "department_id":
        department_id = body.get("department_id")
        if not department_id or department_id not in {d.department_id for d in staff.departments(principal.district_id)}:
            raise BadRequest("请选择对接部门（department_id）", code="missing_field")
        scope["department_id"] = department_id
    return scope


def _scope_key(role: str, scope: dict[str, Any], district_id: str) -> str:
    field = ROLE_SCOPE[role]
    value = district_id if field == "district_id" else scope[field]
    return f"{field.removesuffix('_id')}#{value}"


def create_staff(principal, body: dict[str, Any]) -> dict[str, Any]:
    """A new account with a one-time password (answered once; the person must change it at first sign-in)."""
    require(principal, "staff.manage")
    username = (body.get("username") or "").strip().lower()
    if not USERNAME.fullmatch(username):
        raise BadRequest("账号应为 3–64 位小写字母、数字、点、横线或下划线，以字母或数字开头", code="invalid_field")
    display_name = (body.get("display_name") or "").strip()
    if not 1 <= len(display_name) <= 20:
        raise BadRequest("请填写姓名（1–20 个字）", code="invalid_field")
    role = body.get("role") or ""
    scope = _scope_of(principal, role, body)
    target = Target(username, role, principal.district_id, **scope)
    require_manage(principal, target)
    password = one_time_password()
    values = {"username": username, "display_name": display_name, "role": role, "district_id": principal.district_id,
              "scope_key": _scope_key(role, scope, principal.district_id), **scope}
    user = bootstrap.staff().create(values, bootstrap.passwords().hash_password(password), principal, bootstrap.now())
    return {"user": user_json(principal, user), "one_time_password": password}


def act(principal, username: str, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """deactivate / reactivate / reset_password / unlock / change_role, audited."""
    body = body or {}
    require(principal, "staff.manage")
    user = _load(principal, username)
    if user.username == principal.username:
        raise Forbidden("不能管理自己的账号（修改自己的密码请用“修改我的密码”）")
    require_manage(principal, _target(user))
    staff, now = bootstrap.staff(), bootstrap.now()
    answer: dict[str, Any] = {}
    if action == "deactivate":
        if user.deactivated_at is not None:
            raise ConflictError("该账号已停用")
        user = staff.change(user, action, principal, now, sets={"deactivated_at": now}, revoke_tokens=True)
    elif action == "reactivate":
        if user.deactivated_at is None:
            raise ConflictError("该账号没有停用")
        user = staff.change(user, action, principal, now, removes=["deactivated_at"])
    elif action == "reset_password":
        password = one_time_password()
        user = staff.change(user, action, principal, now,
                            sets={"password_hash": bootstrap.passwords().hash_password(password),
                                  "must_change_password": True}, removes=["locked_until"], revoke_tokens=True,
                            new_epoch=True)
        answer["one_time_password"] = password
    elif action == "unlock":
        user = staff.change(user, action, principal, now, removes=["locked_until"], new_epoch=True)
    elif action == "change_role":
        role = body.get("role") or ""
        scope = _scope_of(principal, role, body, current=user)
        require_manage(principal, Target(user.username, role, user.district_id, **scope))
        fields = {"from_role": user.role, "role": role, **{k: v for k, v in scope.items() if v}}
        user = staff.change(user, action, principal, now, fields=fields, revoke_tokens=True,
                            sets={"role": role, "scope_key": _scope_key(role, scope, user.district_id),
                                  **{k: v for k, v in scope.items() if v}},
                            removes=[k for k, v in scope.items() if not v and getattr(user, k)])
    else:
        raise BadRequest("action 应为 deactivate、reactivate、reset_password、unlock 或 change_role", code="invalid_field")
    return {"user": user_json(principal, user), **answer}


def create_team(principal, community_id: str, name: str, kind: str) -> dict[str, Any]:
    """A new service team (服务队) of a community; its members are accounts with the role team_member."""
    require(principal, "staff.manage")
    if principal.role != "district_admin" and community_id != principal.community_id:
        raise NotFound("社区不存在")
    if bootstrap.directory().community(community_id) is None:
        raise NotFound("社区不存在")
    if kind not in TEAM_KINDS:
        raise BadRequest(f"未知的服务队类型：{kind}", code="invalid_field")
    name = name.strip()
    if not 2 <= len(name) <= 40:
        raise BadRequest("请填写服务队名称（2–40 个字）", code="invalid_field")
    team_id = f"{community_id}-{kind.replace('_', '-')}-{secrets.token_hex(2)}"
    team = bootstrap.staff().create_team(community_id, team_id, kind, name, bootstrap.now())
    return {"id": team.team_id, "name": team.name, "kind": team.kind, "kind_name": TEAM_KINDS[team.kind],
            "community_id": community_id}

