"""The alliance's staff API: the matrix (联盟矩阵), activities, suggestions, menus. Thin: parse,
call one services function, answer."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.auth import current_principal, staff_authorizer
from chalicelib.services import activities as activities_service
from chalicelib.services import consultations as consultations_service
from chalicelib.services import matrix as matrix_service
from chalicelib.services import menus as menus_service
from chalicelib.services import rules as rules_service
from chalicelib.services import suggestions as suggestions_service
from chalicelib.web.http import json_errors, json_response, read_json

bp = Blueprint(__name__)


def _principal():
    return current_principal(bp.current_request)


@bp.route("/api/v1/matrix", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def matrix_list():
    params = bp.current_request.query_params or {}
    return json_response(matrix_service.directory(_principal(), params.get("q"), params.get("cursor")))


@bp.route("/api/v1/matrix/{entry_id}", methods=["PUT"], authorizer=staff_authorizer)
@json_errors
def matrix_put(entry_id):
    return json_response(matrix_service.save_entry(_principal(), entry_id, read_json(bp.current_request)))


@bp.route("/api/v1/matrix/{entry_id}", methods=["DELETE"], authorizer=staff_authorizer)
@json_errors
def matrix_delete(entry_id):
    return json_response(matrix_service.remove_entry(_principal(), entry_id))


# ---- community activities (社区活动) ------------------------------------------------------------------

def _q() -> dict[str, str]:
    return bp.current_request.query_params or {}


@bp.route("/api/v1/activities", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def activities_list():
    return json_response(activities_service.listing(_principal(), _q().get("community")))


@bp.route("/api/v1/activities", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def activities_create():
    return json_response(activities_service.create(_principal(), read_json(bp.current_request)), status=201)


@bp.route("/api/v1/activities/{activity_id}/signups", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def activity_signups(activity_id):
    data = activities_service.signups(_principal(), activity_id)
    if _q().get("format") == "csv":
        return Response(activities_service.signups_csv(data), status_code=200, headers={
            "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="signups-{activity_id}.csv"'})
    return json_response(data)


@bp.route("/api/v1/activities/{activity_id}/attendance", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def activity_attendance(activity_id):
    return json_response(activities_service.mark_attendance(_principal(), activity_id,
                                                            read_json(bp.current_request)))


# ---- suggestions (意见建议) ----------------------------------------------------------------------------

@bp.route("/api/v1/suggestions", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def suggestions_queue():
    q = _q()
    return json_response(suggestions_service.queue(_principal(), q.get("community"), q.get("state")))


@bp.route("/api/v1/suggestions/counts", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def suggestions_counts():
    q = _q()
    return json_response(suggestions_service.counts(_principal(), q.get("community"), q.get("month")))


@bp.route("/api/v1/suggestions/{suggestion_id}/answer", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def suggestion_answer(suggestion_id):
    return json_response(suggestions_service.answer(_principal(), suggestion_id, read_json(bp.current_request)))


# ---- custom menus and convenience links (自定义菜单, 便民服务) -------------------------------------------

@bp.route("/api/v1/menus", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def menus_view():
    return json_response(menus_service.view(_principal(), _q().get("community")))


@bp.route("/api/v1/menus/template", methods=["PUT"], authorizer=staff_authorizer)
@json_errors
def menus_template():
    return json_response(menus_service.save_template(_principal(), read_json(bp.current_request)))


@bp.route("/api/v1/menus/communities/{community_id}", methods=["PUT"], authorizer=staff_authorizer)
@json_errors
def menus_override(community_id):
    return json_response(menus_service.save_override(_principal(), community_id, read_json(bp.current_request)))


@bp.route("/api/v1/convenience-links", methods=["PUT"], authorizer=staff_authorizer)
@json_errors
def convenience_links():
    return json_response(menus_service.save_links(_principal(), read_json(bp.current_request)))


# ---- keyword rules (关键词规则) ------------------------------------------------------------------------

@bp.route("/api/v1/rules/{account_id}", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def rules_view(account_id):
    return json_response(rules_service.view(_principal(), account_id))


@bp.route("/api/v1/rules/{account_id}", methods=["PUT"], authorizer=staff_authorizer)
@json_errors
def rules_save(account_id):
    return json_response(rules_service.save(_principal(), account_id, read_json(bp.current_request)))


@bp.route("/api/v1/rules/{account_id}", methods=["DELETE"], authorizer=staff_authorizer)
@json_errors
def rules_reset(account_id):
    return json_response(rules_service.reset(_principal(), account_id))


@bp.route("/api/v1/rules/{account_id}/try", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def rules_try(account_id):
    return json_response(rules_service.try_message(_principal(), account_id, read_json(bp.current_request)))


# ---- consultations (公共政策讨论) ------------------------------------------------------------------------

@bp.route("/api/v1/consultations", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def consultations_list():
    return json_response(consultations_service.listing(_principal(), _q().get("community")))


@bp.route("/api/v1/consultations", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def consultations_create():
    return json_response(consultations_service.create(_principal(), read_json(bp.current_request)), status=201)


@bp.route("/api/v1/consultations/{consultation_id}/results", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def consultation_results(consultation_id):
    return json_response(consultations_service.results(_principal(), consultation_id))
