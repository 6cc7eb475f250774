"""Open311 GeoReport v2 under `/open311/v2`, for partner systems (12345 hotline, grid system …).

    GET  /open311/v2/discovery.{json,xml}
    GET  /open311/v2/services.{json,xml}[?jurisdiction_id=<community>]
    GET  /open311/v2/services/{service_code}.{json,xml}
    POST /open311/v2/requests.{json,xml}            form-encoded or JSON; api_key required
    GET  /open311/v2/requests.{json,xml}?jurisdiction_id=<community>&…
    GET  /open311/v2/requests/{service_request_id}.{json,xml}?jurisdiction_id=<community>

API Gateway path parameters are whole segments, so the format suffix is part of the parameter and
parsed here. Each route: parse, authorise the partner (its API key), call intake / the request store,
answer. Errors are the spec's list `[{"code", "description"}]` in the format asked for.

Searches (`GET requests`) read the community's `by_community` index newest first, 100 requests per
answer at most, within a window of at most 90 days (default: the last 90 days). When more may match,
the answer carries the header `X-Open311-Next-Page-Token`; send it back as `page_token` (with the same
parameters) for the next ones. One answer reads at most 1,000 requests of the index.
"""
from __future__ import annotations

import functools
import json
import re
from datetime import datetime
from typing import Any, Callable
from urllib.parse import parse_qs

from chalice import Blueprint, Response

from chalicelib import bootstrap, clock
from chalicelib.domain import open311
from chalicelib.domain.open311 import Open311Error

bp = Blueprint(__name__)

PREFIX = "/open311/v2"
PAGE_SIZE = 100  # requests in one answer
MAX_EXAMINED = 1000  # requests of the index one answer reads at most
NEXT_PAGE_HEADER = "X-Open311-Next-Page-Token"
HEADERS = {"Cache-Control": "no-store"}
_HOST = re.compile(r"[A-Za-z0-9.-]+(:\d{1,5})?")


def answer(root: str, data: Any, fmt: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body, content_type = open311.render(root, data, fmt)
    return Response(body=body, status_code=status,
                    headers={"Content-Type": content_type, **HEADERS, **(headers or {})})


def spec_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer Open311Error (and a bad page token) as the spec's error list, in the path's format."""
    from chalicelib.store.request_store import BadCursor

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        fmt = open311.format_hint(*kwargs.values())
        try:
            return view(*args, **kwargs)
        except Open311Error as error:
            return answer("errors", open311.errors_body(error.status, error.description), fmt, error.status)
        except BadCursor:
            return answer("errors", open311.errors_body(400, "page_token 无效"), fmt, 400)
    return wrapper


# ---- routes --------------------------------------------------------------------------------------

@bp.route(PREFIX + "/{resource}", methods=["GET"])
@spec_errors
def read_resource(resource):
    name, fmt = open311.split_format(resource)
    if name == "discovery":
        return answer("discovery", open311.discovery(_base_url(), _endpoint_type()), fmt)
    if name == "services":
        return answer("services", open311.service_list(_policy(_query().get("jurisdiction_id"))), fmt)
    if name == "requests":
        items, token = search_requests(_query())
        return answer("service_requests", items, fmt, headers={NEXT_PAGE_HEADER: token} if token else None)
    raise Open311Error(404, f"没有这个资源：{open311.clean(name)[:64]}")


@bp.route(PREFIX + "/{resource}", methods=["POST"],
          content_types=["application/x-www-form-urlencoded", "application/json"])
@spec_errors
def create_resource(resource):
    name, fmt = open311.split_format(resource)
    if name != "requests":
        raise Open311Error(404, f"不能向 {open311.clean(name)[:64]} 提交")
    return answer("service_requests", [file_request(_body())], fmt)


@bp.route(PREFIX + "/services/{service_code}", methods=["GET"])
@spec_errors
def read_service(service_code):
    code, fmt = open311.split_format(service_code)
    return answer("service_definition", open311.service_definition(code), fmt)


@bp.route(PREFIX + "/requests/{service_request_id}", methods=["GET"])
@spec_errors
def read_request(service_request_id):
    text, fmt = open311.split_format(service_request_id)
    return answer("service_requests", [one_request(text, _query())], fmt)


# ---- the use cases behind them -------------------------------------------------------------------

def file_request(fields: dict[str, str]) -> dict[str, Any]:
    """A partner files a request for a resident: through `intake`, like every channel."""
    from chalicelib.domain.messages import NO_REPLY
    from chalicelib.domain.request_actions import intake
    from chalicelib.store.ports import DynamoPorts

    partner = _partner(fields.get("api_key"), required=True)
    submission = open311.parse_submission(fields)
    account = _community(submission.jurisdiction_id)
    if not partner.serves(account.district_id, account.community_id):
        raise Open311Error(403, "该 api_key 无权为此社区提交")
    now = _now()
    ports = DynamoPorts()
    request = intake(ports, account, now, text=submission.description, channel="open311",
                     category=submission.service_code, contact=submission.contact, grid=submission.grid,
                     actor="partner", partner=partner.partner_id)
    bootstrap.unit_of_work().commit(None, NO_REPLY, (request,), now)
    agency = ports.team_name(request.district_id, request.community_id, request.team_id, request.department_id)
    return open311.created_dict(request.number, open311.filed_notice(request.number, agency, request.due_at))


def one_request(text: str, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.domain.requests import parse_number
    from chalicelib.store import request_store

    community_id = open311.jurisdiction(params)
    account = _community(community_id)
    partner = _partner(params.get("api_key"))
    number = parse_number(text)
    request = request_store.get(number) if number else None
    if request is None or request.community_key != community_id:
        raise Open311Error(404, f"没有这张纸条：{open311.clean(text)[:64]}")
    private = partner is not None and partner.serves(account.district_id, community_id)
    contact = request_store.contact(request.number) if private else None
    return _shown(request, contact.address if contact else None, private)


def search_requests(params: dict[str, str]) -> tuple[list[dict[str, Any]], str | None]:
    community_id = open311.jurisdiction(params)
    account = _community(community_id)
    partner = _partner(params.get("api_key"))
    search = open311.parse_search(params, _now())
    if search.numbers:
        items, token = _by_numbers(search.numbers, community_id), None
    else:
        items, token = _walk(community_id, search)
    private = partner is not None and partner.serves(account.district_id, community_id)
    addresses = _addresses([r.number for r in items]) if private and items else {}
    return [_shown(r, addresses.get(r.number), private) for r in items], token


def _walk(community_id: str, search: open311.Search) -> tuple[list, str | None]:
    """Newest first through the community's index: whole pages, so the token resumes exactly."""
    from chalicelib.store import request_store

    single_code = next(iter(search.codes)) if len(search.codes) == 1 else None
    found: list = []
    examined = 0
    cursor = search.page_token
    while True:
        page = request_store.list_requests(community_key=community_id, category=single_code,
                                           limit=PAGE_SIZE - len(found), cursor=cursor)
        cursor = page.cursor
        for request in page.items:
            examined += 1
            if request.created_at < search.start:  # older than the window: nothing further matches
                return found, None
            if search.matches(request):
                found.append(request)
        if not cursor or len(found) >= PAGE_SIZE or examined >= MAX_EXAMINED:
            return found, cursor


def _by_numbers(numbers: tuple[str, ...], community_id: str) -> list:
    """The named requests of this community, in the order asked (one BatchGetItem)."""
    from chalicelib.store.requests import HelpRequest

    found = {r.number: r for r in HelpRequest.batch_get(list(numbers))}
    return [found[n] for n in numbers if n in found and found[n].community_key == community_id]


def _addresses(numbers: list[str]) -> dict[str, str]:
    """The contact addresses of these requests (one BatchGetItem); phones and names stay unread here."""
    from chalicelib.store.requests import RequestContact

    return {c.number: c.address for c in RequestContact.batch_get(numbers, attributes_to_get=["number", "address"])
            if c.address}


def _shown(request, address: str | None, private: bool) -> dict[str, Any]:
    from chalicelib.store.ports import DynamoPorts

    agency = DynamoPorts().team_name(request.district_id, request.community_id, request.team_id,
                                     request.department_id)
    return open311.request_dict(request, agency=agency, address=address, private=private)


# ---- parsing and authorising ---------------------------------------------------------------------

def _now() -> datetime:
    return clock.now()


def _query() -> dict[str, str]:
    return dict(bp.current_request.query_params or {})


def _body() -> dict[str, str]:
    """The POST's fields, form-encoded or JSON (an api_key in the query string is taken too)."""
    request = bp.current_request
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    try:
        text = (request.raw_body or b"").decode("utf-8")
    except UnicodeDecodeError:
        raise Open311Error(400, "请求内容应为 UTF-8") from None
    if content_type == "application/json":
        try:
            data = json.loads(text) if text.strip() else {}
        except ValueError:
            raise Open311Error(400, "请求内容不是有效的 JSON") from None
        if not isinstance(data, dict):
            raise Open311Error(400, "请求内容应为 JSON 对象")
        fields = open311.flatten(data)
    else:
        try:
            parsed = parse_qs(text, keep_blank_values=True, max_num_fields=100)
        except ValueError:
            raise Open311Error(400, "表单参数过多") from None
        fields = {k: v[0] for k, v in parsed.items()}
    if not fields.get("api_key") and (request.query_params or {}).get("api_key"):
        fields["api_key"] = request.query_params["api_key"]
    return fields


def _partner(api_key: str | None, required: bool = False):
    """The partner behind the key. No key: None (reading) or 403 (filing); an unknown key: 403."""
    from chalicelib.store.partners import partner_for_key

    if not api_key:
        if required:
            raise Open311Error(403, "缺少 api_key")
        return None
    partner = partner_for_key(api_key)
    if partner is None:
        raise Open311Error(403, "api_key 无效")
    return partner


def _community(community_id: str):
    from chalicelib.store.ports import community_account

    account = community_account(community_id)
    if account is None:
        raise Open311Error(404, f"没有这个社区：{community_id[:64]}")
    return account


def _policy(community_id: str | None):
    """The request policy of the community named (404 if none), else the district's."""
    from chalicelib.config import settings
    from chalicelib.store.ports import DynamoPorts

    if community_id:
        account = _community(open311.jurisdiction({"jurisdiction_id": community_id}))
        return DynamoPorts().policy(account.district_id, account.community_id)
    return DynamoPorts().policy(settings().district_id, None)


def _base_url() -> str:
    """This API's address as the caller reached it (stage prefix and custom domain included)."""
    request = bp.current_request
    context = request.context or {}
    host = request.headers.get("host") or ""
    if not _HOST.fullmatch(host):
        host = context.get("domainName") or "localhost"
    scheme = request.headers.get("x-forwarded-proto") or "http"
    scheme = scheme if scheme in ("http", "https") else "https"
    path = context.get("path") or PREFIX + "/discovery.json"
    return f"{scheme}://{host}{path.rsplit('/', 1)[0]}"


def _endpoint_type() -> str:
    from chalicelib.config import settings

    return "production" if settings().stage == "prod" else "test"
