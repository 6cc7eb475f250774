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
from typing import Any, Callable
from urllib.parse import parse_qs

from chalice import Blueprint, Response

from chalicelib.config import settings
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.patterns import lazy_re
from chalicelib.open311 import wire as open311
from chalicelib.open311.wire import Open311Error
from chalicelib.services import open311 as open311_service

bp = Blueprint(__name__)

PREFIX = "/open311/v2"
NEXT_PAGE_HEADER = "X-Open311-Next-Page-Token"
HEADERS = {"Cache-Control": "no-store"}
_HOST = lazy_re(r"[A-Za-z0-9.-]+(:\d{1,5})?")


def answer(root: str, data: Any, fmt: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body, content_type = open311.render(root, data, fmt)
    return Response(body=body, status_code=status,
                    headers={"Content-Type": content_type, **HEADERS, **(headers or {})})


def spec_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer Open311Error (and a bad page token) as the spec's error list, in the path's format."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        fmt = open311.format_hint(*kwargs.values())
        try:
            return view(*args, **kwargs)
        except Open311Error as error:
            return answer("errors", open311.errors_body(error.status, error.description), fmt, error.status)
        except BadRequest:
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
        return answer("services", open311_service.service_list(_query().get("jurisdiction_id")), fmt)
    if name == "requests":
        items, token = open311_service.search_requests(_query())
        return answer("service_requests", items, fmt, headers={NEXT_PAGE_HEADER: token} if token else None)
    raise Open311Error(404, f"没有这个资源：{open311.clean(name)[:64]}")


@bp.route(PREFIX + "/{resource}", methods=["POST"],
          content_types=["application/x-www-form-urlencoded", "application/json"])
@spec_errors
def create_resource(resource):
    name, fmt = open311.split_format(resource)
    if name != "requests":
        raise Open311Error(404, f"不能向 {open311.clean(name)[:64]} 提交")
    return answer("service_requests", [open311_service.file_request(_body())], fmt)


@bp.route(PREFIX + "/services/{service_code}", methods=["GET"])
@spec_errors
def read_service(service_code):
    code, fmt = open311.split_format(service_code)
    return answer("service_definition", open311.service_definition(code), fmt)


@bp.route(PREFIX + "/requests/{service_request_id}", methods=["GET"])
@spec_errors
def read_request(service_request_id):
    text, fmt = open311.split_format(service_request_id)
    return answer("service_requests", [open311_service.one_request(text, _query())], fmt)


# ---- parsing and authorising ---------------------------------------------------------------------

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
    return "production" if settings().stage == "prod" else "test"
