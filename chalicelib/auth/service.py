"""Staff sign-in use cases: login (with abuse limits), token check, logout, password change.

Login abuse (rules and numbers in chalicelib/domain/limits.py; counts in fixed windows on the counters
table, chalicelib/store/windows.py, expiry checked in code):

* failed logins are counted per username, per client address, and per (username, address);
* an address with too many failures for a username (or over all usernames) gets the wrong-password
  answer whatever it sends: same status, body, argon2 work and writes as a wrong password, so it tells
  nothing, and the user signing in from anywhere else is not locked out;
* a username failing from many addresses is not locked either: every answer for it is slowed
  progressively (`limits.login_delay`), which makes guessing slow without handing attackers a lock;
* each address may send `login_rate_per_address` login requests a minute (429 beyond), on top of API
  Gateway's throttling of the route (tools/gen_resources.py);
* `token_version` is carried by every token as `ver`; logout and a password change add 1 to it, which
  refuses every token issued before. The authorizer reads the item (one consistent GetItem per request,
  no cache) so that takes effect at the next request.

Passwords and tokens are never logged.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime
from functools import lru_cache
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib import clock, log
from chalicelib.auth import tokens
from chalicelib.auth.errors import InvalidCredentials, LoginTooFrequent, Unauthenticated, WeakPassword, WrongPassword
from chalicelib.auth.principal import Principal
from chalicelib.config import settings
from chalicelib.auth import passwords
from chalicelib.domain import limits
from chalicelib.domain.records import record
from chalicelib.store import windows
from chalicelib.store.staff import StaffUser

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
MAX_USERNAME_LENGTH = 64
UNKNOWN_ADDRESS = "unknown"

logger = log.get_logger("auth")
sleep = time.sleep  # the progressive delay (tests replace it)


def now() -> datetime:
    """The clock of this module (tests replace it)."""
    return clock.now()


@record
class Session:
    """A signed-in user: the token, when it expires, and who it is."""

    token: str
    expires_at: datetime
    principal: Principal
    must_change_password: bool = False  # signed in with a one-time password: only the password change is open

    def to_json(self) -> dict[str, Any]:
        return {"token": self.token, "token_type": "Bearer",
                "expires_at": self.expires_at.isoformat().replace("+00:00", "Z"),
                "expires_in": int(tokens.TOKEN_LIFETIME.total_seconds()),
                "user": {**self.principal.to_json(), "must_change_password": self.must_change_password}}


# ---- the staff item --------------------------------------------------------------------------------

def _get_user(username: str, consistent: bool = False):

    try:
        return StaffUser.get(username, consistent_read=consistent)
    except StaffUser.DoesNotExist:
        return None


def _is_conditional_failure(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash of the current cost profile, verified when the user is unknown: same work, same time."""

    return passwords.hash_password("no such user: timing only")


def _issue(user, at: datetime) -> Session:
    principal = Principal.from_user(user)
    claims = {"sub": principal.username, "name": principal.display_name, "role": principal.role,
              "district_id": principal.district_id, "subdistrict_id": principal.subdistrict_id,
              "community_id": principal.community_id, "team_id": principal.team_id,
              "department_id": principal.department_id, "ver": int(user.token_version or 0)}
    token, expires_at = tokens.issue(claims, now=at)
    return Session(token, expires_at, principal, bool(getattr(user, "must_change_password", None)))


@record
class _Attempt:
    """The failure counters one sign-in attempt touches, and their recent counts."""

    pair: str
    username: str
    address: str
    counts: dict[str, int]

    @classmethod
    def read(cls, username: str, address: str, at: datetime, epoch: int = 0) -> "_Attempt":
        """`epoch`: the user's `login_epoch`; an unlock adds one, so the counts start afresh."""

        name = limits.login_failure_key(username, epoch, MAX_USERNAME_LENGTH)
        keys = (f"login-fail#{name}#{address}", f"login-fail#{name}", f"login-fail-from#{address}")
        return cls(*keys, windows.recent(list(keys), at, limits.LOGIN_FAILURE_WINDOW))

    @property
    def barred(self) -> bool:
        return limits.login_barred(self.counts[self.pair], self.counts[self.address])

    @property
    def delay(self) -> float:
        return limits.login_delay(self.counts[self.username])

    def failed(self, at: datetime) -> None:
        """The same three writes for every failure: unknown user, wrong password, barred address."""

        for key in (self.pair, self.username, self.address):
            windows.add(key, at, limits.LOGIN_FAILURE_WINDOW)

    def succeeded(self, at: datetime) -> None:

        if self.counts[self.pair]:
            windows.clear(self.pair, at, limits.LOGIN_FAILURE_WINDOW)


def client_address(address: str | None) -> str:
    """The caller's address as API Gateway saw it (never a header the caller sets), bounded."""
    if not isinstance(address, str) or not 0 < len(address) <= 64:
        return UNKNOWN_ADDRESS
    return address


def _rate_limit(address: str, at: datetime) -> None:

    if windows.add(f"login-rate#{address}", at, limits.LOGIN_RATE_WINDOW) > settings().login_rate_per_address:
        log.event(logger, "login refused", logging.WARNING, reason="rate limit", address=address)
        raise LoginTooFrequent()


# ---- use cases -------------------------------------------------------------------------------------

def login(username: str, password: str, address: str | None = None, at: datetime | None = None) -> Session:
    """A session for the right password from an address in good standing; otherwise `InvalidCredentials`
    (unknown user, wrong password, or an address with too many failures: one answer, the same argon2
    work and writes); `LoginTooFrequent` past the per-address rate. Slowed for a username under attack."""

    at = at or now()
    address = client_address(address)
    _rate_limit(address, at)
    username = username.strip().lower()
    user = _get_user(username, consistent=True) if 0 < len(username) <= MAX_USERNAME_LENGTH else None
    attempt = _Attempt.read(username, address, at, int(getattr(user, "login_epoch", 0) or 0) if user else 0)
    if attempt.delay:
        sleep(attempt.delay)
    right = passwords.verify_password(user.password_hash if user else _dummy_hash(), password)
    if user is not None and user.deactivated_at is not None:
        right = False  # a deactivated account: the wrong-password answer, and it counts as a failure
    locked = user is not None and user.locked_until is not None and user.locked_until > at
    if user is None or not right or attempt.barred or locked:
        attempt.failed(at)
        # Not the name typed when unknown: people type their password into the username field.
        reason = "unknown user" if user is None else "too many failures from this address" if right and \
            attempt.barred else "wrong password"
        log.event(logger, "login refused", username=username if user else None, reason=reason,
                  address=address)
        raise InvalidCredentials()
    attempt.succeeded(at)
    log.event(logger, "login", username=username, role=user.role)
    return _issue(user, at)


def authenticate(token: str) -> Principal:
    """The principal behind a token, checked against the user's item; `TokenInvalid` otherwise."""
    return authenticate_user(token)[0]


def authenticate_user(token: str) -> tuple[Principal, bool]:
    """(principal, must change the password) behind a token; `TokenInvalid` otherwise."""
    claims = tokens.decode(token)
    user = _get_user(claims["sub"], consistent=True)
    if user is None:
        raise tokens.TokenInvalid("unknown user")
    if int(user.token_version or 0) != claims["ver"]:
        raise tokens.TokenInvalid("revoked")
    if user.role != claims["role"]:
        raise tokens.TokenInvalid("role changed")
    if user.deactivated_at is not None:
        raise tokens.TokenInvalid("deactivated")
    return Principal.from_user(user), bool(user.must_change_password)


def must_change_password(username: str) -> bool:
    """Whether the user still signs in with a one-time password (only the password change is open)."""
    user = _get_user(username, consistent=True)
    return bool(user is not None and user.must_change_password)


def logout(principal: Principal) -> None:
    """Refuse every token issued to the user so far (on every device)."""

    try:
        StaffUser(principal.username).update(actions=[StaffUser.token_version.add(1)],
                                             condition=StaffUser.username.exists())
    except UpdateError as exc:
        if not _is_conditional_failure(exc):
            raise
        raise Unauthenticated() from None
    log.event(logger, "logout", username=principal.username)


def password_problem(username: str, new_password: str) -> str | None:
    """Why a new password is refused (a message for staff), or None."""
    if len(new_password) < MIN_PASSWORD_LENGTH:
        return f"新密码至少需要{MIN_PASSWORD_LENGTH}个字符"
    if len(new_password) > MAX_PASSWORD_LENGTH:
        return f"新密码不能超过{MAX_PASSWORD_LENGTH}个字符"
    if new_password.strip().lower() == username.lower():
        return "新密码不能与用户名相同"
    return None


def change_password(principal: Principal, old_password: str, new_password: str,
                    at: datetime | None = None, address: str | None = None) -> Session:
    """Set a new password (the old one required) and refuse every earlier token; the answer is a fresh
    session. A wrong old password counts as a failed login (a stolen token must not allow guessing), and
    a barred address gets the wrong-password answer whatever it sends."""


    at = at or now()
    user = _get_user(principal.username, consistent=True)
    if user is None:
        raise Unauthenticated()
    attempt = _Attempt.read(user.username, client_address(address), at, int(user.login_epoch or 0))
    if not passwords.verify_password(user.password_hash, old_password) or attempt.barred:
        attempt.failed(at)
        log.event(logger, "password change refused", username=user.username, reason="wrong old password")
        raise WrongPassword()
    problem = password_problem(user.username, new_password)
    if problem:
        raise WeakPassword(problem)
    if new_password == old_password:
        raise WeakPassword("新密码不能与原密码相同")
    version = int(user.token_version or 0)
    same_version = StaffUser.token_version == version
    if version == 0:
        same_version = same_version | StaffUser.token_version.does_not_exist()
    try:
        user.update(actions=[StaffUser.password_hash.set(passwords.hash_password(new_password)),
                             StaffUser.password_changed_at.set(at), StaffUser.updated_at.set(at),
                             StaffUser.token_version.add(1), StaffUser.must_change_password.remove()],
                    condition=StaffUser.username.exists() & same_version)
    except UpdateError as exc:
        if not _is_conditional_failure(exc):
            raise
        raise Unauthenticated() from None  # signed out (or changed) meanwhile: this token is stale
    log.event(logger, "password changed", username=user.username)
    return _issue(user, at)

