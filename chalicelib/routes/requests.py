"""Staff API for 便民纸条 under `/api/v1/requests`: list, view with timeline, file for a resident,
transition, assign, re-categorise, note; dashboard counts. Each route: parse, authorise (the staff
authorizer, then scope inside the desk), call one use case, answer JSON."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.auth import current_principal, staff_authorizer
from chalicelib.auth.errors import BadRequest
from chalicelib.schema import Bool, Day, Int, Obj, Text
from chalicelib.services import directory, requests as request_desk
from chalicelib.web.http import json_errors, json_response, read_json

bp = Blueprint(__name__)

# Input schemas (chalicelib/schema.py): one per route, types and limits, 400 naming the field.
_CONTACT = Obj({"name": Text(50, required=False), "phone": Text(20, pattern=r"[0-9+\- ]{3,20}", what="电话号码",
                                                               required=False),
                "address": Text(200, required=False)}, required=False)
_MEAL = Obj({"day": Day(), "meal": Text(20, choices=("breakfast", "lunch", "dinner")),
             "portions": Int(1, 20, required=False)}, required=False)
FILE_REQUEST = Obj({"community_id": Text(64), "text": Text(5000), "category": Text(40, required=False),
                    "contact": _CONTACT, "grid": Text(40, required=False),
                    "via": Text(20, choices=("phone", "walk_in", "grid_visit"), required=False),
                    "consent": Bool(required=False), "meal": _MEAL,
                    "resident_request": Text(40, pattern=r"[A-Za-z]{2,3}-?\d{8}-?\d{3,4}", what="纸条编号",
                                             required=False)},
                   allow_null=("category", "contact", "grid", "meal", "resident_request"))
TRANSITION = Obj({"action": Text(20), "note": Text(1000, required=False, min_len=0),
                  "team_id": Text(64, required=False), "department_id": Text(64, required=False)},
                 allow_null=("note", "team_id", "department_id"))
RECATEGORISE = Obj({"category": Text(40), "note": Text(1000, required=False, min_len=0)}, allow_null=("note",))
NOTE = Obj({"note": Text(1000, min_len=0)})


def _query() -> dict[str, str]:
    return bp.current_request.query_params or {}


def _limit(value: str | None, default: int = 20) -> int:
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= 100:
        raise BadRequest("limit 应为 1 到 100 的整数", code="invalid")
    return int(value)


def _optional_text(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"字段 {name} 应为字符串", code="invalid")
    return value or None


@bp.route("/api/v1/requests", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def list_requests():
    q = _query()
    return json_response(request_desk.list_for(
        current_principal(bp.current_request), community_id=q.get("community"), state=q.get("state"),
        category=q.get("category"), team_id=q.get("team"), limit=_limit(q.get("limit")), cursor=q.get("cursor")))


@bp.route("/api/v1/requests", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def file_request():
    body = FILE_REQUEST.check(read_json(bp.current_request))
    contact = body.get("contact") or {}
    community_id, text = _optional_text(body, "community_id"), _optional_text(body, "text")
    if not community_id or not text:
        raise BadRequest("需要 community_id 和 text", code="missing_field")
    data = request_desk.file_for_resident(current_principal(bp.current_request), community_id, text,
                                          category=_optional_text(body, "category"), contact=contact,
                                          grid=_optional_text(body, "grid"), via=body.get("via"),
                                          consent=body.get("consent"), meal=body.get("meal"),
                                          resident_request=body.get("resident_request"))
    return json_response(data, status=201)


@bp.route("/api/v1/requests/overdue", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def overdue_requests():
    return json_response(request_desk.overdue_for(current_principal(bp.current_request), _query().get("community")))


@bp.route("/api/v1/audit", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def audit_log():
    q = _query()
    return json_response(request_desk.audit_for(current_principal(bp.current_request), q.get("community"),
                                                limit=_limit(q.get("limit")), cursor=q.get("cursor")))


@bp.route("/api/v1/communities", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def communities():

    q = _query()
    return json_response(directory.communities(current_principal(bp.current_request),
                                               limit=_limit(q.get("limit"), 100), cursor=q.get("cursor")))


@bp.route("/api/v1/communities/{community_id}", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def community(community_id):

    return json_response(directory.community(current_principal(bp.current_request), community_id))


@bp.route("/api/v1/requests/{number}", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def view_request(number):
    return json_response(request_desk.view(current_principal(bp.current_request), number))


@bp.route("/api/v1/requests/{number}/transitions", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def transition_request(number):
    body = TRANSITION.check(read_json(bp.current_request))
    action = _optional_text(body, "action")
    if not action:
        raise BadRequest("需要 action（accept、assign、start、complete、reject、cancel、reopen）", code="missing_field")
    return json_response(request_desk.move(current_principal(bp.current_request), number, action,
                                           note=_optional_text(body, "note") or "",
                                           team_id=_optional_text(body, "team_id"),
                                           department_id=_optional_text(body, "department_id")))


@bp.route("/api/v1/requests/{number}/category", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def recategorise_request(number):
    body = RECATEGORISE.check(read_json(bp.current_request))
    category = _optional_text(body, "category")
    if not category:
        raise BadRequest("需要 category", code="missing_field")
    return json_response(request_desk.recategorise(current_principal(bp.current_request), number, category,
                                                   note=_optional_text(body, "note") or ""))


@bp.route("/api/v1/requests/{number}/notes", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def note_request(number):
    body = NOTE.check(read_json(bp.current_request))
    return json_response(request_desk.add_note(current_principal(bp.current_request), number,
                                               _optional_text(body, "note") or ""))


@bp.route("/api/v1/communities/{community_id}/request-counts", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def request_counts(community_id):
    return json_response(request_desk.counts_for(current_principal(bp.current_request), community_id))
