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


MAX_QUERIES = 3  # a page never costs more than this many queries, whatever the data


def list_requests(*, community_key: str | None = None, team_id: str | None = None,
                  department_id: str | None = None, state: str | None = None, category: str | None = None,
                  status: str | None = None, since=None, until=None, limit: int = 20,
                  cursor: str | None = None) -> Page:
    """Newest first. The filters are key conditions of an index built for them — the community's, team's
    or department's requests in a state (`by_*_state`), a community's in a category or an Open311 status
    (open / closed) — so a page reads a page, not the community's history. A filter no index holds (a
    category within a state, a team or a department) is applied to at most MAX_QUERIES reads of `limit`
    items each: such a page may come back short, with a cursor to read on."""

    if community_key:
        if state:
            index, key, rest = HelpRequest.by_community_state, f"{community_key}#{state}", category
        elif category:
            index, key, rest = HelpRequest.by_community_category, f"{community_key}#{category}", None
        elif status:
            index, key, rest = HelpRequest.by_community_status, f"{community_key}#{status}", None
        else:
            index, key, rest = HelpRequest.by_community, community_key, None
    elif team_id or department_id:
        if state:
            index = HelpRequest.by_team_state if team_id else HelpRequest.by_department_state
            key = f"{team_id or department_id}#{state}"
        else:
            index, key = (HelpRequest.by_team, team_id) if team_id else (HelpRequest.by_department, department_id)
        rest = category
    else:
        raise ValueError("a list needs a community, a team or a department")
    if status and not (community_key and not state and not category):
        raise ValueError("status lists are a community's, without other filters")
    condition = (HelpRequest.category == rest) if rest else None
    window = None
    if since is not None and until is not None:
        window = HelpRequest.created_at.between(since, until)
    elif since is not None:
        window = HelpRequest.created_at >= since
    elif until is not None:
        window = HelpRequest.created_at <= until
    limit = max(1, min(int(limit), MAX_PAGE))
    items: list = []
    query = f"requests#{index.Meta.index_name}#{key}"
    start = page_tokens.decode(cursor, query)
    for _ in range(MAX_QUERIES):
        found, start = one_query(index.query(key, range_key_condition=window, filter_condition=condition,
                                             scan_index_forward=False, limit=limit - len(items),
                                             last_evaluated_key=start))
        items += found
        if len(items) >= limit or not start:
            break
    return Page(items, page_tokens.encode(start, query))


def one_query(result) -> tuple[list, dict | None]:
    """The items of ONE Query request and where it stopped. (Iterating PynamoDB's result would keep
    querying until `limit` items matched — hundreds of requests for a filter that matches little.)"""
    pages = result.page_iter
    page = next(pages, None)
    items = [HelpRequest.from_raw_data(raw) for raw in (page or {}).get("Items", [])]
    return items, pages.last_evaluated_key


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
    """Open requests past their expected time, most overdue first: one community's from its own sparse key
    (`by_community_due`), else the district's (`by_due`, the sweep's view)."""

    if community_key:
        found = HelpRequest.by_community_due.query(community_key, HelpRequest.due_at < now, limit=limit)
    else:
        found = HelpRequest.by_due.query(district_id, HelpRequest.due_at < now, limit=limit)
    return list(found)


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
