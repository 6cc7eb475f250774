"""The staff authorizer: a Chalice built-in (Lambda TOKEN) authorizer, shared by every console blueprint.

It lives on its own blueprint so that blueprints can import it without importing `app.py`:

    from chalicelib.auth import staff_authorizer
    @bp.route("/api/v1/...", methods=["GET"], authorizer=staff_authorizer)

`app.py` registers `bp` once. Deployed, it is its own Lambda (handler
`chalicelib.auth.authorizer.staff_authorizer`); `chalice local` and `chalice.test.Client` run it in-process.

* `Authorization: Bearer <token>` (the bare token is accepted too). No header: API Gateway answers 401
  without calling us.
* Bad, expired, tampered or revoked token: 401 (the Lambda fails with the message "Unauthorized", which
  API Gateway turns into 401; under chalice local the same answer is raised as its own exception).
* Valid: every route is allowed (`*`); the principal goes to the route as context, read it with
  `current_principal(app.current_request)`. What the principal may do is decided by `scope.require`.
* API Gateway's result cache is off (`ttl_seconds=0`) and the user's item is read on every call (one
  consistent GetItem), so logout and a password change refuse old tokens at once.
"""
from __future__ import annotations

import sys

from chalice import AuthResponse, AuthRoute, Blueprint
from chalice.app import AuthRequest

from chalicelib import log
from chalicelib.auth import service, tokens
from chalicelib.config import settings

log.configure(settings().log_level)  # deployed, this module is the authorizer Lambda's entry point
logger = log.get_logger("auth")

bp = Blueprint(__name__)
# A user signed in with a one-time password may only change it (or look at themselves, or leave):
# API Gateway (and chalice local) answer 403 on every other route.
ONE_TIME_PASSWORD_ROUTES = [AuthRoute("/api/v1/auth/password", ["POST"]), AuthRoute("/api/v1/auth/me", ["GET"]),
                            AuthRoute("/api/v1/auth/logout", ["POST"])]


def _bearer(header: str | None) -> str:
    value = (header or "").strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value


def _unauthorized() -> Exception:
    """What makes API Gateway (and chalice local) answer 401."""
    local = sys.modules.get("chalice.local")  # loaded only under chalice local and chalice.test.Client
    if local is not None:
        return local.NotAuthorizedError({"x-amzn-ErrorType": "UnauthorizedException"},
                                        b'{"message":"Unauthorized"}')
    return Exception("Unauthorized")


@bp.authorizer(name="staff_authorizer", ttl_seconds=0)
def staff_authorizer(auth_request: AuthRequest) -> AuthResponse:
    try:
        principal, must_change = service.authenticate_user(_bearer(auth_request.token))
    except tokens.TokenInvalid as exc:
        log.event(logger, "token refused", reason=str(exc))
        raise _unauthorized() from None
    return AuthResponse(routes=ONE_TIME_PASSWORD_ROUTES if must_change else ["*"], principal_id=principal.username,
                        context=principal.to_context())
