"""Reading 便民纸条 for staff and partners: lists by an index with paging, one request with its timeline,
its contact, and the dashboard counts kept at write time. Never a scan."""
from __future__ import annotations

from typing import Any

from chalicelib.domain.records import record
from chalicelib.domain.requests import STATE_NAMES
from chalicelib.store import page_tokens
from chalicelib.store.counters import Counter
from chalicelib.store.page_tokens import BadCursor  # noqa: F401 - routes answer it as 400
from chalicelib.store.ports import request_view
from chalicelib.store.request_writes import count_id
from chalicelib.store.requests import HelpRequest, RequestContact, RequestEvent
from chalicelib.store.residents import Profile, Resident

MAX_PAGE = 100


@record
class Page:
    items: list[Any]
    cursor: str | None


def list_requests(*, community_key: str | None = None, team_id: str | None = None,
                  department_id: str | None = None, state: str | None = None, category: str | None = None,
                  limit: int = 20, cursor: str | None = None) -> Page:
    """Newest first, from the index that fits; state and category filter within that query."""

    if community_key:
        index, key = HelpRequest.by_community, community_key
    elif team_id:
        index, key = HelpRequest.by_team, team_id
    elif department_id:
        index, key = HelpRequest.by_department, department_id
    else:
        raise ValueError("a list needs a community, a team or a department")
    condition = None
    if state:
        condition = HelpRequest.state == state
    if category:
        condition = (HelpRequest.category == category) if condition is None else condition & (
            HelpRequest.category == category)
    limit = max(1, min(int(limit), MAX_PAGE))
    items: list = []
    query = f"requests#{index.Meta.index_name}#{key}"
    start = page_tokens.decode(cursor, query)
    # A filtered query may return short pages; keep reading until the page is full or the index ends.
    while True:
        result = index.query(key, filter_condition=condition, scan_index_forward=False, limit=limit - len(items),
                             last_evaluated_key=start)
        items += list(result)
        start = result.last_evaluated_key
        if len(items) >= limit or not start:
            break
    return Page(items, page_tokens.encode(start, query))


def get(number: str):

    try:
        return HelpRequest.get(number)
    except HelpRequest.DoesNotExist:
        return None


def timeline(number: str) -> list:

    return list(RequestEvent.query(number, scan_index_forward=True))


def contact(request):
    """The contact kept with the request; else, for a resident who registered a household profile, that
    profile's name, phone and address (a 便民纸条 filed in chat carries none of its own)."""

    try:
        return RequestContact.get(request.number)
    except RequestContact.DoesNotExist:
        pass
    profile_id = request.profile_id
    if not profile_id and request.openid:
        try:
            profile_id = Resident.get(request.account_id, request.openid).profile_id
        except Resident.DoesNotExist:
            return None
    if not profile_id:
        return None
    try:
        return Profile.get(profile_id)
    except Profile.DoesNotExist:
        return None


def as_view(request):
    """What the domain's rules need of a stored request (`domain.requests.RequestView`)."""

    return request_view(request)


def counts(community_key: str) -> dict[str, int]:
    """Requests of a community per state, kept at write time (one BatchGetItem)."""

    found = {c.counter_id: int(c.value) for c in Counter.batch_get([count_id(community_key, s) for s in STATE_NAMES])}
    return {s: found.get(count_id(community_key, s), 0) for s in STATE_NAMES}


def overdue(district_id: str, now, community_key: str | None = None, limit: int = 100) -> list:
    """Open requests past their expected time (the sparse `by_due` index)."""

    condition = (HelpRequest.community_key == community_key) if community_key else None
    found = HelpRequest.by_due.query(district_id, HelpRequest.due_at < now, filter_condition=condition)
    return [r for _, r in zip(range(limit), found)]  # the filter runs in the query; stop at `limit` matches


def community_events(community_key: str, limit: int = 50, cursor: str | None = None) -> Page:

    query = f"events#{community_key}"
    result = RequestEvent.by_community.query(community_key, scan_index_forward=False,
                                             limit=max(1, min(int(limit), MAX_PAGE)),
                                             last_evaluated_key=page_tokens.decode(cursor, query))
    items = list(result)
    return Page(items, page_tokens.encode(result.last_evaluated_key, query))


def many(numbers, community_key: str) -> list:
    """The named requests of this community, in the order asked (one BatchGetItem)."""

    found = {r.number: r for r in HelpRequest.batch_get(list(numbers))}
    return [found[n] for n in numbers if n in found and found[n].community_key == community_key]


def addresses(numbers: list[str]) -> dict[str, str]:
    """The contact addresses of these requests (one BatchGetItem); phones and names stay unread here."""

    return {c.number: c.address for c in RequestContact.batch_get(numbers, attributes_to_get=["number", "address"])
            if c.address}


def to_escalate(district_id: str, now) -> list:
    """Open requests whose next escalation is due (the sparse `by_escalation` index)."""

    return list(HelpRequest.by_escalation.query(district_id, HelpRequest.escalate_at <= now))
