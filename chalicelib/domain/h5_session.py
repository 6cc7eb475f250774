"""Residents' sessions on the H5 pages: who (account, openid) a browser inside WeChat belongs to.

A session is a short-lived JWT (HS256) signed with its own key from SSM (`{SSM_PREFIX}/h5/session_key`,
`chalicelib.auth.tokens.h5_key_store`), not the console's, and with its own audience, "h5": a console
token is no resident session and a resident session is no console token, even if one key leaks.
Claims: `account_id`, `openid`, `csrf` (the per-session token the pages put in a hidden field),
`iss` (app and stage), `aud`, `iat`, `exp` (two hours). The web layer carries it in an HttpOnly cookie.

Also here: the redirect target (`next`) check, so that the H5 pages never redirect off the platform.
"""
from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib import clock
from chalicelib.auth import tokens

SESSION_LIFETIME = timedelta(hours=2)
AUDIENCE = "h5"
ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("account_id", "openid", "csrf", "iat", "exp", "iss", "aud")
MAX_TOKEN = 2048
ACCOUNT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
OPENID_RE = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
# Pages that only start a session cannot be where a session goes next (it would loop).
ENTRY_PAGES = ("start", "oauth")


class SessionInvalid(Exception):
    """No usable session: malformed, badly signed, expired, for another stage, audience or account.
    The message says why, for logs only."""


@dataclass(frozen=True)
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
        claims: dict[str, Any] = tokens.verify(token, AUDIENCE, tuple(REQUIRED_CLAIMS), key=tokens.h5_key_store().get())
    except tokens.TokenInvalid as exc:
        raise SessionInvalid(str(exc)) from None
    openid, csrf = claims.get("openid"), claims.get("csrf")
    if not isinstance(openid, str) or not OPENID_RE.match(openid) or not isinstance(csrf, str) or not csrf:
        raise SessionInvalid("malformed claims")
    if claims.get("account_id") != account_id:
        raise SessionInvalid("session of another account")
    return Session(account_id, openid, csrf, datetime.fromtimestamp(int(claims["exp"]), timezone.utc))


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
