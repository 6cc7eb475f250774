"""Lists read a page, whatever the data: with 10,000 requests stored in one community (and 2,000 more
communities in the district), each list's first page costs at most 3 DynamoDB requests — counted by a
wrapper on botocore's calls, not timed.

The history is built so that a filter over the community's whole partition would be expensive: the
state and team asked for are rare or absent, the overdue requests of the district are almost all another
community's, and most requests are closed.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import botocore.session
import pynamodb.connection.base
import pytest
from moto import mock_aws

import chalicelib.store.base  # noqa: F401 - installs the platform's session factory, which we wrap
from chalicelib import clock
from chalicelib.auth.principal import Principal
from chalicelib.auth.tokens import signing_key_store
from chalicelib.queues import create_queues
from chalicelib.services import directory, open311, requests as desk
from chalicelib.store.org import District
from chalicelib.store.registry import create_tables
from local import scale
from tests.conftest import reset_connections

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=timezone.utc)
HOME, OTHER, TEAM = "scale-00000", "scale-00001", "scale-00000-t0"
ADMIN = Principal("admin", "区管理员", "district_admin", "scale")
TEAM_MEMBER = Principal("t", "队员", "team_member", "scale", community_id=HOME, team_id=TEAM)
WORKER = Principal("sw", "社工", "social_worker", "scale", community_id=HOME)


class Counting:
    """Counts the DynamoDB requests botocore sends (every PynamoDB model's session)."""

    def __init__(self):
        self.calls: list[str] = []

    def __enter__(self):
        self.calls.clear()
        return self

    def __exit__(self, *exc):
        return False


COUNTER = Counting()


@pytest.fixture(scope="module")
def district():
    make_session = pynamodb.connection.base.get_session

    def counting_session() -> botocore.session.Session:
        session = make_session()
        session.register("before-call.dynamodb", lambda model, **_: COUNTER.calls.append(model.name))
        return session

    pynamodb.connection.base.get_session = counting_session
    with mock_aws():
        reset_connections()
        create_tables()
        create_queues()
        signing_key_store().put("k" * 64)
        District("scale", name="规模区", city="青岛", code="SC").save()
        scale.communities("scale", 2_000)
        # 10,000 in the home community: no rejected one among the newest thousands (rejected come
        # only at the end), the team's assigned ones rare; 1,000 overdue in the other community.
        scale.requests("scale", HOME, "SA", 10_000, NOW, team_id=TEAM, overdue_every=97,
                       states=("closed",) * 30 + ("done", "cancelled", "submitted", "in_progress"))
        scale.requests("scale", OTHER, "SB", 1_000, NOW, overdue_every=1,
                       states=("submitted",))
        yield
    reset_connections()
    pynamodb.connection.base.get_session = make_session


def first_page_costs(call) -> tuple[int, object]:
    clock.set_clock(NOW)
    with COUNTER:
        result = call()
    return len(COUNTER.calls), result


@pytest.mark.parametrize("title, filters", [
    ("no filter", {}),
    ("a state with no match in 10,000", {"state": "rejected"}),
    ("a rare state", {"state": "submitted"}),
    ("a category", {"category": "care_visit"}),
    ("a state and a category", {"state": "closed", "category": "repairs"}),
    ("a team", {"team_id": TEAM}),
])
def test_staff_list_first_page_costs_at_most_three_requests(district, title, filters):
    desk.list_for(ADMIN, community_id=HOME, limit=20)  # the community's teams are cached per container
    cost, page = first_page_costs(lambda: desk.list_for(ADMIN, community_id=HOME, limit=20, **filters))
    assert cost <= 3, (title, COUNTER.calls)
    items = page["items"]
    if "state" in filters:
        assert all(i["state"] == filters["state"] for i in items)
    if filters.get("state") == "rejected":
        assert items == [] and page["cursor"] is None
    if filters.get("state") == "submitted" or filters == {}:
        assert len(items) == 20
    if "category" in filters:
        assert all(i["category"] == filters["category"] for i in items) and items


def test_a_team_members_list_in_a_state_is_a_key_of_its_own(district):
    cost, page = first_page_costs(lambda: desk.list_for(TEAM_MEMBER, state="in_progress", limit=20))
    assert cost == 1, COUNTER.calls
    assert len(page["items"]) == 20 and {i["team_id"] for i in page["items"]} == {TEAM}
    cost, page = first_page_costs(lambda: desk.list_for(TEAM_MEMBER, state="rejected", limit=20))
    assert cost == 1 and page["items"] == []


def test_the_next_page_follows_the_cursor_without_repeating(district):
    first = desk.list_for(ADMIN, community_id=HOME, state="closed", limit=50)
    cost, second = first_page_costs(lambda: desk.list_for(ADMIN, community_id=HOME, state="closed", limit=50,
                                                          cursor=first["cursor"]))
    assert cost == 1
    assert not {i["number"] for i in first["items"]} & {i["number"] for i in second["items"]}
    assert max(i["created_at"] for i in second["items"]) < min(i["created_at"] for i in first["items"])


def test_overdue_of_one_community_reads_its_own_key(district):
    cost, found = first_page_costs(lambda: desk.overdue_for(WORKER, None))
    assert cost == 1, COUNTER.calls
    assert {i["community_id"] for i in found["items"]} == {HOME} and len(found["items"]) >= 1


def test_open311_status_is_a_key_condition(district):
    open311.search_requests({"jurisdiction_id": HOME})  # the account's facts are cached per container
    for status in ("closed", "open"):
        cost, (items, token) = first_page_costs(
            lambda: open311.search_requests({"jurisdiction_id": HOME, "status": status}))
        assert cost <= 3, (status, COUNTER.calls)
        assert items and {i["status"] for i in items} == {status}


def test_communities_are_paged_and_scoped(district):
    cost, page = first_page_costs(lambda: directory.communities(ADMIN, limit=100))
    assert cost == 1 and len(page["items"]) == 100 and page["cursor"]
    cost, following = first_page_costs(lambda: directory.communities(ADMIN, limit=100, cursor=page["cursor"]))
    assert cost == 1 and following["items"][0]["id"] > page["items"][-1]["id"]
    reviewer = Principal("r", "街道", "subdistrict_reviewer", "scale", subdistrict_id="scale-sub-007")
    cost, mine = first_page_costs(lambda: directory.communities(reviewer, limit=100))
    assert cost == 1 and len(mine["items"]) == 20 and {c["subdistrict_id"] for c in mine["items"]} == {"scale-sub-007"}
    cost, own = first_page_costs(lambda: directory.communities(WORKER))
    assert cost == 1 and [c["id"] for c in own["items"]] == [HOME]
