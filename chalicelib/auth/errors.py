"""The errors of authentication and authorisation, each with an HTTP status, a stable English `code` and a
message in simplified Chinese for staff.

They subclass Chalice's `ChaliceViewError`, so a view that lets one escape still answers with the right
status (in Chalice's own body shape); views wrapped in `chalicelib.auth.http.json_errors` answer
`{"code": ..., "message": ...}`.
"""
from __future__ import annotations

from chalice.app import ChaliceViewError


class AuthError(ChaliceViewError):
    STATUS_CODE = 400
    code = "bad_request"
    message = "请求有误"

    def __init__(self, message: str | None = None, code: str | None = None):
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        super().__init__(self.message)

    def body(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class BadRequest(AuthError):
    STATUS_CODE = 400
    code = "bad_request"
    message = "请求有误"


class Unauthenticated(AuthError):
    """No (valid) token: the request did not pass the staff authorizer."""

    STATUS_CODE = 401
    code = "unauthenticated"
    message = "请先登录"


class InvalidCredentials(AuthError):
    """Unknown user or wrong password: one answer for both."""

    STATUS_CODE = 401
    code = "invalid_credentials"
    message = "用户名或密码错误"


class Forbidden(AuthError):
    """The principal sees the object but may not do this to it."""

    STATUS_CODE = 403
    code = "forbidden"
    message = "没有权限执行此操作"


class WrongPassword(Forbidden):
    code = "wrong_password"
    message = "原密码错误"


class NotFound(AuthError):
    """Missing, or out of the principal's scope: the two must look the same."""

    STATUS_CODE = 404
    code = "not_found"
    message = "未找到该记录"


class TooManyRequests(AuthError):
    """Too many login requests from one address in a minute (whatever the usernames)."""

    STATUS_CODE = 429
    code = "too_many_requests"
    message = "登录尝试过于频繁，请一分钟后再试"


class WeakPassword(BadRequest):
    code = "weak_password"
    message = "新密码不符合要求"
