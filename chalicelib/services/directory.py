"""The directory desk (账号与队伍): the communities a member of staff may see, and one community's account,
teams, canteens and staff. Scope comes from `chalicelib.auth.scope`."""
from __future__ import annotations

from typing import Any

from chalicelib import bootstrap
from chalicelib.auth.scope import can, communities_in_scope
from chalicelib.domain.errors import NotFound
from chalicelib.domain.vocabulary import ROLES, TEAM_KINDS


def communities(principal, limit: int = 100, cursor: str | None = None) -> dict[str, Any]:
    """The communities the principal may see, a page at a time (by id): the district's for its admin, the
    sub-district's for its reviewer, else the principal's own community (or none)."""
    directory = bootstrap.directory()
    if principal.role == "district_admin":
        found, cursor = directory.communities_page(principal.district_id, limit=limit, cursor=cursor)
    elif principal.role == "subdistrict_reviewer":
        found, cursor = directory.communities_page(principal.district_id, principal.subdistrict_id, limit=limit,
                                                   cursor=cursor) if principal.subdistrict_id else ([], None)
    else:
        own = directory.community(principal.community_id) if principal.community_id else None
        found, cursor = ([own] if own is not None and own.district_id == principal.district_id else []), None
    items = [{"id": c.community_id, "name": c.name, "code": c.code, "subdistrict_id": c.subdistrict_id}
             for c in found]
    if principal.role == "team_member":  # a service team delivers its community's meals: the canteens, for its home
        for item in items:
            item["canteens"] = [{"id": k.canteen_id, "name": k.name} for k in directory.canteens_of(item["id"])]
    return {"items": items, "cursor": cursor}


def community(principal, community_id: str) -> dict[str, Any]:
    allowed = communities_in_scope(principal)
    if principal.role in ("team_member", "department") or (allowed is not None and community_id not in allowed):
        raise NotFound("社区不存在")
    directory = bootstrap.directory()
    c = directory.community(community_id)
    if c is None:
        raise NotFound("社区不存在")
    account = directory.account(community_id)
    data: dict[str, Any] = {
        "id": c.community_id, "name": c.name, "code": c.code, "subdistrict_id": c.subdistrict_id, "grids": c.grids,
        "account": account and {"id": account.view.account_id, "name": account.view.name,
                                "type": account.view.account_type, "encryption_mode": account.encryption_mode},
        "teams": [{"id": t.team_id, "kind": t.kind, "kind_name": TEAM_KINDS.get(t.kind, t.kind), "name": t.name}
                  for t in directory.teams_of(community_id)],
        "canteens": [{"id": k.canteen_id, "name": k.name, "kind": k.kind} for k in directory.canteens_of(community_id)],
    }
    if can(principal, "staff.view"):
        data["staff"] = [{"username": u.username, "display_name": u.display_name, "role": u.role,
                          "role_name": ROLES.get(u.role, u.role)} for u in directory.staff_of(community_id)]
    return data
