"""Reading the organisation for staff: communities, one community's account, teams, canteens and staff."""
from __future__ import annotations

from chalicelib.store import page_tokens
from chalicelib.store.canteens import Canteen
from chalicelib.store.org import Community
from chalicelib.store.ports import gateway_account
from chalicelib.store.staff import StaffUser
from chalicelib.store.teams import Team

__all__ = ["account", "canteens_of", "communities", "communities_page", "community", "staff_of", "teams_of"]

account = gateway_account


def communities(district_id: str, only: set[str] | None = None) -> list:
    """Every community of the district (a query on its index), or just those in `only` (a batch get)."""
    if only is None:
        return list(Community.by_district.query(district_id))
    return list(Community.batch_get(sorted(only))) if only else []


def communities_page(district_id: str, subdistrict_id: str | None = None, limit: int = 100,
                     cursor: str | None = None) -> tuple[list, str | None]:
    """One page of the district's communities (or a sub-district's), by id: one Query, `limit` items."""
    index, key = (Community.by_subdistrict, subdistrict_id) if subdistrict_id else (Community.by_district, district_id)
    query = f"communities#{index.Meta.index_name}#{key}"
    result = index.query(key, limit=max(1, min(int(limit), 200)),
                         last_evaluated_key=page_tokens.decode(cursor, query))
    items = [c for c in result if c.district_id == district_id]
    return items, page_tokens.encode(result.last_evaluated_key, query)


def community(community_id: str):
    try:
        return Community.get(community_id)
    except Community.DoesNotExist:
        return None


def teams_of(community_id: str) -> list:
    return list(Team.query(community_id))


def canteens_of(community_id: str) -> list:
    return list(Canteen.by_community.query(community_id))


def staff_of(community_id: str) -> list:
    return list(StaffUser.by_scope.query(f"community#{community_id}"))
