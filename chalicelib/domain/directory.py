"""The directory desk (accounts and teams): the communities a member of staff may see, and one
community's account, teams, canteens and staff. Scope comes from `chalicelib.auth.scope`."""
from __future__ import annotations

from typing import Any

from chalicelib.auth.errors import NotFound
from chalicelib.auth.scope import can, communities_in_scope
from chalicelib.store.teams import TEAM_KINDS


def communities(principal) -> list[dict[str, Any]]:
    from chalicelib.store.org import Community

    allowed = communities_in_scope(principal)
    if principal.role in ("team_member", "department"):
        allowed = {principal.community_id} if principal.community_id else set()
    if allowed is None:
        found = Community.by_district.query(principal.district_id)
    else:
        found = [c for c in Community.batch_get(sorted(allowed))] if allowed else []
    return sorted(({"id": c.community_id, "name": c.name, "code": c.code, "subdistrict_id": c.subdistrict_id}
                   for c in found), key=lambda c: c["code"])


def community(principal, community_id: str) -> dict[str, Any]:
    from chalicelib.store.canteens import Canteen
    from chalicelib.store.org import Community
    from chalicelib.store.ports import gateway_account
    from chalicelib.store.staff import ROLES, StaffUser
    from chalicelib.store.teams import Team

    allowed = communities_in_scope(principal)
    if principal.role in ("team_member", "department") or (allowed is not None and community_id not in allowed):
        raise NotFound("社区不存在")
    try:
        c = Community.get(community_id)
    except Community.DoesNotExist as exc:
        raise NotFound("社区不存在") from exc
    account = gateway_account(community_id)
    data: dict[str, Any] = {
        "id": c.community_id, "name": c.name, "code": c.code, "subdistrict_id": c.subdistrict_id, "grids": c.grids,
        "account": account and {"id": account.view.account_id, "name": account.view.name,
                                "type": account.view.account_type, "encryption_mode": account.encryption_mode},
        "teams": [{"id": t.team_id, "kind": t.kind, "kind_name": TEAM_KINDS.get(t.kind, t.kind), "name": t.name}
                  for t in Team.query(community_id)],
        "canteens": [{"id": k.canteen_id, "name": k.name, "kind": k.kind} for k in
                     Canteen.by_community.query(community_id)],
    }
    if can(principal, "staff.view"):
        data["staff"] = [{"username": u.username, "display_name": u.display_name, "role": u.role,
                          "role_name": ROLES.get(u.role, u.role)}
                         for u in StaffUser.by_scope.query(f"community#{community_id}")]
    return data
