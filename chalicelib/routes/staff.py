"""Staff operations (人员与提醒): people and accounts under `/api/v1/staff`, service teams of a community, one's own
WeChat alerts under `/api/v1/me/alerts`, and the filing form's category suggestion. Each route: parse,
authorise (the staff authorizer; scope inside the service), call one use case, answer JSON."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.auth import current_principal, staff_authorizer
from chalicelib.domain.vocabulary import ROLES, TEAM_KINDS
from chalicelib.schema import List, Obj, Text
from chalicelib.services import people, requests as request_desk, staff_alerts
from chalicelib.web.http import json_errors, json_response, read_json

bp = Blueprint(__name__)

_ID = Text(64, pattern=r"[A-Za-z0-9_.-]{1,64}", what="编号", required=False)
NEW_STAFF = Obj({"username": Text(64), "display_name": Text(20), "role": Text(30, choices=tuple(ROLES)),
                 "community_id": _ID, "subdistrict_id": _ID, "team_id": _ID, "department_id": _ID},
                allow_null=("community_id", "subdistrict_id", "team_id", "department_id"))
STAFF_ACTION = Obj({"action": Text(20, choices=("deactivate", "reactivate", "reset_password", "unlock",
                                                "change_role")),
                    "role": Text(30, choices=tuple(ROLES), required=False), "community_id": _ID, "team_id": _ID,
                    "subdistrict_id": _ID, "department_id": _ID},
                   allow_null=("role", "community_id", "team_id", "subdistrict_id", "department_id"))
NEW_TEAM = Obj({"name": Text(40), "kind": Text(30, choices=tuple(TEAM_KINDS))})
ALERT_KINDS = Obj({"alert_kinds": List(Text(20), max_items=10)})
EMPTY = Obj({}, required=False)
SUGGEST = Obj({"community_id": Text(64), "text": Text(5000, min_len=0)})


def _principal():
    return current_principal(bp.current_request)


def _body(schema):
    raw = bp.current_request.raw_body
    return schema.check(read_json(bp.current_request) if raw else {})


@bp.route("/api/v1/staff", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def list_staff():
    q = bp.current_request.query_params or {}
    return json_response(people.list_staff(_principal(), q.get("community")))


@bp.route("/api/v1/staff", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def create_staff():
    return json_response(people.create_staff(_principal(), NEW_STAFF.check(read_json(bp.current_request))), status=201)


@bp.route("/api/v1/staff/{username}", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def view_staff(username):
    return json_response(people.view_staff(_principal(), username))


@bp.route("/api/v1/staff/{username}/actions", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def staff_action(username):
    body = STAFF_ACTION.check(read_json(bp.current_request))
    return json_response(people.act(_principal(), username, body["action"], body))


@bp.route("/api/v1/communities/{community_id}/teams", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def create_team(community_id):
    body = NEW_TEAM.check(read_json(bp.current_request))
    return json_response(people.create_team(_principal(), community_id, body["name"], body["kind"]), status=201)


@bp.route("/api/v1/me/alerts", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def my_alerts():
    return json_response(staff_alerts.my_alerts(_principal()))


@bp.route("/api/v1/me/alerts", methods=["PUT"], authorizer=staff_authorizer)
@json_errors
def set_alert_kinds():
    body = ALERT_KINDS.check(read_json(bp.current_request))
    return json_response(staff_alerts.set_kinds(_principal(), body["alert_kinds"]))


@bp.route("/api/v1/me/alerts/code", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def binding_code():
    _body(EMPTY)
    return json_response(staff_alerts.new_code(_principal()), status=201)


@bp.route("/api/v1/me/alerts/binding", methods=["DELETE"], authorizer=staff_authorizer)
@json_errors
def unbind():
    return json_response(staff_alerts.unbind(_principal()))


@bp.route("/api/v1/requests/suggestion", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def suggest_category():
    body = SUGGEST.check(read_json(bp.current_request))
    return json_response(request_desk.suggest_for_resident(_principal(), body["community_id"], body["text"]))
