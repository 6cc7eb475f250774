"""Staff API of the monthly bulletin (月通报) under `/api/v1/bulletins`, its rules (`/api/v1/bulletin-rules`)
and the district overview (`/api/v1/overview`). Each route: parse, authorise (the staff authorizer, then
scope inside the service), one use case, JSON (or the file of an export)."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.auth import current_principal, staff_authorizer
from chalicelib.domain.exports import XLSX_TYPE
from chalicelib.services import bulletin, overview
from chalicelib.web.http import json_errors, json_response, read_json

bp = Blueprint(__name__)


def _q() -> dict[str, str]:
    return bp.current_request.query_params or {}


def _me():
    return current_principal(bp.current_request)


def _version() -> int | None:
    raw = _q().get("version")
    return int(raw) if raw and raw.isdigit() and len(raw) < 6 else None


@bp.route("/api/v1/bulletins/{month}", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def view_bulletin(month):
    return json_response(bulletin.view(_me(), month, _version()))


@bp.route("/api/v1/bulletins/{month}/issue", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def issue_bulletin(month):
    return json_response(bulletin.issue(_me(), month))


@bp.route("/api/v1/bulletins/{month}/build", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def build_bulletin(month):
    return json_response(bulletin.rebuild(_me(), month))


@bp.route("/api/v1/bulletins/{month}/corrections", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def correct_bulletin(month):
    return json_response(bulletin.correct(_me(), month, read_json(bp.current_request)), status=201)


@bp.route("/api/v1/bulletins/{month}/appeals", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def appeal_deduction(month):
    return json_response(bulletin.appeal(_me(), month, read_json(bp.current_request)), status=201)


@bp.route("/api/v1/bulletins/{month}/decisions", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def decide_appeal(month):
    return json_response(bulletin.decide(_me(), month, read_json(bp.current_request)))


@bp.route("/api/v1/bulletins/{month}/export", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def export_bulletin(month):
    content, kind, filename = bulletin.export(_me(), month, _q().get("format", "csv"))
    return Response(content, status_code=200, headers={
        "Content-Type": XLSX_TYPE if kind == "xlsx" else kind, "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/api/v1/bulletin-rules", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def get_bulletin_rules():
    return json_response(bulletin.get_rules(_me()))


@bp.route("/api/v1/bulletin-rules", methods=["PUT"], authorizer=staff_authorizer)
@json_errors
def save_bulletin_rules():
    return json_response(bulletin.save_rules(_me(), read_json(bp.current_request)))


@bp.route("/api/v1/overview", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def district_overview():
    q = _q()
    return json_response(overview.page(_me(), cursor=q.get("cursor"), limit=q.get("limit"),
                                       subdistrict=q.get("subdistrict")))
