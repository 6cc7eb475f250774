"""HTTP helpers: the one place where outcomes become HTTP statuses, JSON responses, strict JSON bodies.

Every route floor (the JSON API, the console's API, Open311 and the H5 pages) answers a
`chalicelib.domain.errors.DomainError` with the status the error carries: `status_of` is the mapping.
"""
from __future__ import annotations

import functools
import json
from typing import Any, Callable

from chalice import Response

from chalicelib.domain.errors import BadRequest, DomainError

NO_STORE = {"Cache-Control": "no-store"}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False),
                    headers={"Content-Type": "application/json; charset=utf-8", **NO_STORE, **(headers or {})},
                    status_code=status)


def status_of(error: DomainError) -> int:
    """The HTTP status of an outcome (the one mapping every floor uses)."""
    status = int(getattr(error, "status", 400))
    return status if 400 <= status <= 599 else 400


def error_response(error: DomainError) -> Response:
    return json_response({"code": error.code, "message": str(error)}, status=status_of(error))


def json_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer the `DomainError`s (Forbidden, NotFound, a bad category, a transition the state does not
    allow …) raised in a view as JSON with their status.

    Put it under `@bp.route(...)`. Other exceptions are left to Chalice (500, nothing leaked)."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except DomainError as error:
            return error_response(error)
    return wrapper


def read_json(request: Any) -> dict[str, Any]:
    """The request's body as a JSON object; `BadRequest` when it is empty, not JSON, or not an object."""
    raw = request.raw_body
    if not raw:
        raise BadRequest("请求内容为空，应为JSON对象", code="bad_json")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("请求内容不是有效的JSON", code="bad_json") from None
    if not isinstance(body, dict):
        raise BadRequest("请求内容应为JSON对象", code="bad_json")
    return body


def text_fields(body: dict[str, Any], *names: str) -> list[str]:
    """The named fields as non-empty strings; `BadRequest` naming the first missing or malformed one."""
    values = []
    for name in names:
        value = body.get(name)
        if not isinstance(value, str) or value == "":
            raise BadRequest(f"缺少字段 {name}（应为非空字符串）", code="missing_field")
        values.append(value)
    return values
