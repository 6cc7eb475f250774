"""The errors of authentication and authorisation that only the auth adapter raises.

The general outcomes (BadRequest, Unauthenticated, Forbidden, NotFound …) live in `chalicelib.domain.errors`
and are re-exported here for the auth modules; `chalicelib.web.http` maps them all to HTTP in one place.
"""
from __future__ import annotations

from chalicelib.domain.errors import BadRequest, DomainError, Forbidden, NotFound, TooManyRequests, Unauthenticated

AuthError = DomainError  # every auth error is a domain outcome with a status


class InvalidCredentials(Unauthenticated):
    """Unknown user or wrong password: one answer for both."""

    code = "invalid_credentials"
    message = "用户名或密码错误"


class WrongPassword(Forbidden):
    code = "wrong_password"
    message = "原密码错误"




class LoginTooFrequent(TooManyRequests):
    """Too many login requests from one address in a minute (whatever the usernames)."""

    message = "登录尝试过于频繁，请一分钟后再试"


class WeakPassword(BadRequest):
    code = "weak_password"
    message = "新密码不符合要求"


__all__ = ["AuthError", "BadRequest", "Forbidden", "InvalidCredentials", "LoginTooFrequent", "NotFound", "Unauthenticated",
           "WeakPassword", "WrongPassword"]
