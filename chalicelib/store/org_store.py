"""Reading the organisation for staff: communities, one community's account, teams, canteens and staff."""
from __future__ import annotations

from chalicelib.store.canteens import Canteen
from chalicelib.store.org import Community
from chalicelib.store.ports import gateway_account
from chalicelib.store.staff import StaffUser
from chalicelib.store.teams import Team

__all__ = ["account", "canteens_of", "communities", "community", "staff_of", "teams_of"]

account = gateway_account


def communities(district_id: str, only: set[str] | None = None) -> list:
    """Every community of the district (a query on its index), or just those in `only` (a batch get)."""
    if only is None:
        return list(Community.by_district.query(district_id))
    return list(Community.batch_get(sorted(only))) if only else []


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
