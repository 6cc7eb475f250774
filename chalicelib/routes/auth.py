"""Staff sign-in under `/api/v1/auth`: login, logout, password change, who am I. JSON in and out; errors
are `{"code": ..., "message": ...}` with a stable English code and a message in Chinese."""
from chalice import Blueprint

from chalicelib.auth import current_principal, staff_authorizer
from chalicelib.web.http import json_errors, json_response, read_json, text_fields
from chalicelib.auth import service

bp = Blueprint(__name__)


def _source_ip() -> str | None:
    """The caller's address as API Gateway saw it (not X-Forwarded-For, which the caller writes)."""
    return ((bp.current_request.context or {}).get("identity") or {}).get("sourceIp")


@bp.route("/api/v1/auth/login", methods=["POST"])
@json_errors
def auth_login():
    """{username, password} -> {token, token_type, expires_at, expires_in, user}."""
    username, password = text_fields(read_json(bp.current_request), "username", "password")
    return json_response(service.login(username, password, address=_source_ip()).to_json())


@bp.route("/api/v1/auth/logout", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def auth_logout():
    """Every token of the user issued so far is refused from now on."""
    service.logout(current_principal(bp.current_request))
    return json_response({"ok": True})


@bp.route("/api/v1/auth/password", methods=["POST"], authorizer=staff_authorizer)
@json_errors
def auth_password():
    """{old_password, new_password} -> a fresh session (earlier tokens are refused)."""
    principal = current_principal(bp.current_request)
    old_password, new_password = text_fields(read_json(bp.current_request), "old_password", "new_password")
    return json_response(service.change_password(principal, old_password, new_password,
                                                 address=_source_ip()).to_json())


@bp.route("/api/v1/auth/me", methods=["GET"], authorizer=staff_authorizer)
@json_errors
def auth_me():
    principal = current_principal(bp.current_request)
    return json_response({"user": {**principal.to_json(),
                                   "must_change_password": service.must_change_password(principal.username)}})
