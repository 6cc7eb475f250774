"""The alliance's staff API: the matrix (联盟矩阵), activities, suggestions, menus. Thin: parse,
call one services function, answer."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.auth import current_principal, staff_authorizer
from chalicelib.services import matrix as matrix_service
from chalicelib.web.http import json_errors, json_response, read_json

bp = Blueprint(__name__)


def _principal():
    return current_principal(bp.current_request)


@bp.route("/api/v1/matrix", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def matrix_list():
    return json_response(matrix_service.directory(_principal()))


@bp.route("/api/v1/matrix/{entry_id}", methods=["PUT"], authorizer=staff_authorizer)
@json_errors
def matrix_put(entry_id):
    return json_response(matrix_service.save_entry(_principal(), entry_id, read_json(bp.current_request)))


@bp.route("/api/v1/matrix/{entry_id}", methods=["DELETE"], authorizer=staff_authorizer)
@json_errors
def matrix_delete(entry_id):
    return json_response(matrix_service.remove_entry(_principal(), entry_id))
