"""Open311 GeoReport v2 use cases (开放311): a partner files a 便民纸条 for a resident (through the one filing
path), reads one request, searches a community's requests, lists the services. Partners are authorised
by their API key (kept hashed); without a key nothing personal is shown."""
from __future__ import annotations

from typing import Any

from chalicelib import bootstrap
from chalicelib.config import settings
from chalicelib.domain.filing import Need
from chalicelib.domain.requests import parse_number
from chalicelib.open311 import wire
from chalicelib.open311.wire import Open311Error
from chalicelib.services import filing

PAGE_SIZE = 100  # requests in one answer


def file_request(fields: dict[str, str]) -> dict[str, Any]:
    """A partner files a request for a resident: through the one filing path, like every channel."""
    partner = _partner(fields.get("api_key"), required=True)
    submission = wire.parse_submission(fields)
    account = _community(submission.jurisdiction_id)
    if not partner.serves(account.district_id, account.community_id):
        raise Open311Error(403, "该 api_key 无权为此社区提交")
    filed = filing.file_need(account, Need(text=submission.description, channel="open311",
                                           category=submission.service_code, contact=submission.contact,
                                           grid=submission.grid, actor="partner", partner=partner.partner_id))
    return wire.created_dict(filed.number, wire.filed_notice(filed.number, filed.team_name, filed.due_at))


def one_request(text: str, params: dict[str, str]) -> dict[str, Any]:
    community_id = wire.jurisdiction(params)
    account = _community(community_id)
    partner = _partner(params.get("api_key"))
    number = parse_number(text)
    repo = bootstrap.requests()
    request = repo.get(number) if number else None
    if request is None or request.community_key != community_id:
        raise Open311Error(404, f"没有这张纸条：{wire.clean(text)[:64]}")
    private = partner is not None and partner.serves(account.district_id, community_id)
    contact = repo.contact(request) if private else None
    return _shown(request, contact.address if contact else None, private)


def search_requests(params: dict[str, str]) -> tuple[list[dict[str, Any]], str | None]:
    community_id = wire.jurisdiction(params)
    account = _community(community_id)
    partner = _partner(params.get("api_key"))
    search = wire.parse_search(params, bootstrap.now())
    repo = bootstrap.requests()
    if search.numbers:
        items, token = repo.many(search.numbers, community_id), None
    else:
        items, token = _walk(community_id, search)
    private = partner is not None and partner.serves(account.district_id, community_id)
    addresses = repo.addresses([r.number for r in items]) if private and items else {}
    return [_shown(r, addresses.get(r.number), private) for r in items], token


def _walk(community_id: str, search: wire.Search) -> tuple[list, str | None]:
    """Newest first through the index that holds the filter as its key — one status (open / closed) or
    one service code — within the window as a key condition: a page reads a page (at most
    `request_store.MAX_QUERIES` reads; a combination no index holds is filtered and may come back short,
    with a token to read on)."""
    single_code = next(iter(search.codes)) if len(search.codes) == 1 else None
    single_status = next(iter(search.statuses)) if len(search.statuses) == 1 else None
    page = bootstrap.requests().list_requests(
        community_key=community_id, category=single_code, status=None if single_code else single_status,
        since=search.start, until=search.end, limit=PAGE_SIZE, cursor=search.page_token)
    return [r for r in page.items if search.matches(r)], page.cursor


def _shown(request, address: str | None, private: bool) -> dict[str, Any]:
    agency = bootstrap.ports().team_name(request.district_id, request.community_id, request.team_id,
                                         request.department_id)
    return wire.request_dict(request, agency=agency, address=address, private=private)


def _partner(api_key: str | None, required: bool = False):
    """The partner behind the key. No key: None (reading) or 403 (filing); an unknown key: 403."""
    if not api_key:
        if required:
            raise Open311Error(403, "缺少 api_key")
        return None
    partner = bootstrap.partners().partner_for_key(api_key)
    if partner is None:
        raise Open311Error(403, "api_key 无效")
    return partner


def _community(community_id: str):
    account = bootstrap.ports().community_account(community_id)
    if account is None:
        raise Open311Error(404, f"没有这个社区：{community_id[:64]}")
    return account


def service_list(community_id: str | None) -> list[dict[str, Any]]:
    """The services (categories) of the community named (404 if none), else of the district."""
    if community_id:
        account = _community(wire.jurisdiction({"jurisdiction_id": community_id}))
        return wire.service_list(bootstrap.ports().policy(account.district_id, account.community_id))
    return wire.service_list(bootstrap.ports().policy(settings().district_id, None))
