"""Residents' sessions (会话) on the H5 pages: who (account, openid) a browser inside WeChat belongs to.

A session is a short-lived JWT (HS256) signed with its own key from SSM (`{SSM_PREFIX}/h5/session_key`,
`chalicelib.auth.tokens.h5_key_store`), not the console's, and with its own audience, "h5": a console
token is no resident session and a resident session is no console token, even if one key leaks.
Claims: `account_id`, `openid`, `csrf` (the per-session token the pages put in a hidden field),
`iss` (app and stage), `aud`, `iat`, `exp` (two hours). The web layer carries it in an HttpOnly cookie.

Also here: the redirect target (`next`) check, so that the H5 pages never redirect off the platform;
and the cookies, the OAuth state, the browser's URL and the redirects (the web side of a session).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from chalice import Response

from chalicelib import clock
from chalicelib.auth import tokens
from chalicelib.config import settings
from chalicelib.domain.patterns import lazy_re
from chalicelib.domain.records import record
from chalicelib.web.pages import PRIVATE_HEADERS

SESSION_LIFETIME = timedelta(hours=2)
AUDIENCE = "h5"
ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("account_id", "openid", "csrf", "iat", "exp", "iss", "aud")
MAX_TOKEN = 2048
ACCOUNT_ID_RE = lazy_re(r"^[A-Za-z0-9_-]{1,64}$")
OPENID_RE = lazy_re(r"^[A-Za-z0-9_-]{6,64}$")
# Pages that only start a session cannot be where a session goes next (it would loop).
ENTRY_PAGES = ("start", "oauth")


class SessionInvalid(Exception):
    """No usable session: malformed, badly signed, expired, for another stage, audience or account.
    The message says why, for logs only."""


@record
class Session:
    account_id: str
    openid: str
    csrf: str
    expires_at: datetime


def issue(account_id: str, openid: str, now: datetime | None = None) -> tuple[str, Session]:
    """A signed session for the resident, with a fresh CSRF token."""
    if not ACCOUNT_ID_RE.match(account_id) or not OPENID_RE.match(openid):
        raise ValueError("malformed account id or openid")
    now = now or clock.now()
    expires_at = (now + SESSION_LIFETIME).replace(microsecond=0)
    csrf = secrets.token_urlsafe(24)
    payload = {"account_id": account_id, "openid": openid, "csrf": csrf, "iss": tokens.issuer(), "aud": AUDIENCE,
               "iat": int(now.timestamp()), "exp": int(expires_at.timestamp())}
    token = tokens.sign(payload, key=tokens.h5_key_store().get())
    return token, Session(account_id, openid, csrf, expires_at)


def decode(token: str, account_id: str) -> Session:
    """The session in `token`, if valid and for `account_id`; SessionInvalid otherwise. Only HS256, expiry
    checked with no leeway."""
    if not token or len(token) > MAX_TOKEN:
        raise SessionInvalid("missing or oversized token")
    try:
        claims: dict[str, Any] = tokens.verify(token, AUDIENCE, tuple(REQUIRED_CLAIMS),
                                               key=tokens.h5_key_store().get())  # HS256 only, expiry by the clock
    except tokens.TokenInvalid as exc:
        raise SessionInvalid(str(exc)) from None
    openid, csrf = claims.get("openid"), claims.get("csrf")
    if not isinstance(openid, str) or not OPENID_RE.match(openid) or not isinstance(csrf, str) or not csrf:
        raise SessionInvalid("malformed claims")
    if claims.get("account_id") != account_id:
        raise SessionInvalid("session of another account")
    return Session(account_id, openid, csrf, datetime.fromtimestamp(int(claims["exp"]), timezone.utc))


def sender_key(signed_in: Session) -> str:
    """This H5 session as a sender whose 便民纸条 count against the limits too (besides the openid)."""
    return "h5#" + hashlib.sha256(signed_in.csrf.encode()).hexdigest()[:24]


def csrf_ok(session: Session, submitted: str | None) -> bool:
    """The hidden field matches the session's token (compared in constant time)."""
    return bool(submitted) and hmac.compare_digest(session.csrf.encode(), str(submitted).encode())


def new_state() -> str:
    """The OAuth `state`: random, kept in a short cookie and compared on the way back."""
    return secrets.token_urlsafe(24)


def states_match(expected: str | None, returned: str | None) -> bool:
    return bool(expected) and bool(returned) and hmac.compare_digest(str(expected).encode(), str(returned).encode())


def safe_next(account_id: str, target: str | None) -> str | None:
    """`target` if it is a page of this account's H5 (a local path, no scheme, no host, no `//`, no
    `..`, no entry page, a plain query at most), else None: never an open redirect."""
    if not isinstance(target, str) or len(target) > 300:
        return None
    match = re.fullmatch(rf"/h5/{re.escape(account_id)}/([a-z][a-z0-9-]{{0,40}})(/[a-z0-9-]{{1,40}})*"
                         r"(\?[A-Za-z0-9_.=&-]{0,200})?", target)
    if match is None or match.group(1) in ENTRY_PAGES:
        return None
    return target


# ---- on the web: cookies, the URL the browser sees, redirects ----------------------------------------

SESSION_COOKIE, STATE_COOKIE = "h5s", "h5st"
STATE_LIFETIME_S = 600  # WeChat's codes live five minutes; the round trip takes seconds
HOST_RE = lazy_re(r"^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$")
PREFIX_RE = lazy_re(r"^(/[A-Za-z0-9._~-]+)*$")


def cookies(request: Any, name: str) -> list[str]:
    """Every value of cookie `name` the browser sent (the most specific path first)."""
    pairs = (part.strip().partition("=") for part in (request.headers.get("cookie") or "").split(";"))
    return [value.strip().strip('"') for key, sep, value in pairs if sep and key == name and value]


def cookie(name: str, value: str, path: str, max_age: int) -> str:
    """HttpOnly, SameSite=Lax, and Secure except on the laptop and in tests."""
    secure = "" if settings().stage in ("local", "test") else "; Secure"
    return f"{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"


def current(request: Any, account_id: str) -> Session | None:
    """The first session cookie valid for this account."""
    for token in cookies(request, SESSION_COOKIE):
        try:
            return decode(token, account_id)
        except SessionInvalid:
            continue
    return None


def state_ok(request: Any, returned: str | None) -> bool:
    return any(states_match(value, returned) for value in cookies(request, STATE_COOKIE))


def prefix(request: Any, account_id: str) -> str:
    """What precedes /h5/ in the browser's URL: API Gateway's stage, a base path mapping, or nothing."""
    seen = str((request.context or {}).get("path") or "")
    at = seen.find(f"/h5/{account_id}/")
    return seen[:at] if at > 0 and PREFIX_RE.match(seen[:at]) else ""


def public_base(request: Any) -> str | None:
    """scheme://host as the browser sees it (Host, X-Forwarded-Proto); None for a malformed Host."""
    host = request.headers.get("host") or ""
    proto = (request.headers.get("x-forwarded-proto") or "").split(",")[0].strip().lower()
    if proto not in ("http", "https"):
        proto = "http" if settings().stage in ("local", "test") else "https"
    return f"{proto}://{host}" if HOST_RE.match(host) else None


def start_url(base: str, account_id: str, target: str) -> str:
    return f"{base}/h5/{account_id}/start?next={quote(target, safe='/')}"


def redirect(location: str, status: int = 302, set_cookies: list[str] | None = None) -> Response:
    headers: dict[str, Any] = {**PRIVATE_HEADERS, "Location": location}
    if set_cookies:
        headers["Set-Cookie"] = set_cookies if len(set_cookies) > 1 else set_cookies[0]
    return Response(body="", status_code=status, headers=headers)
