"""Staff sign-in use cases: login (with lockout), token check, logout, password change.

Storage is the `StaffUser` item (chalicelib/store/staff.py):

* failed logins are counted with an atomic `ADD`; the 5th failure sets `locked_until` (now + 15 minutes)
  and resets the counter, by a write conditional on the counter, so racing attempts lock once;
* a success resets the counter and the lock;
* `token_version` is carried by every token as `ver`; logout and a password change add 1 to it, which
  refuses every token issued before. The authorizer reads the item (one consistent GetItem per request,
  no cache) so that takes effect at the next request.

Passwords and tokens are never logged.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib import clock, log
from chalicelib.auth import tokens
from chalicelib.auth.errors import InvalidCredentials, Locked, Unauthenticated, WeakPassword, WrongPassword
from chalicelib.auth.principal import Principal
from chalicelib.domain import passwords
from chalicelib.store.staff import StaffUser

MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
MAX_USERNAME_LENGTH = 64

logger = log.get_logger("auth")


def now() -> datetime:
    """The clock of this module (tests replace it)."""
    return clock.now()


@dataclass(frozen=True)
class Session:
    """A signed-in user: the token, when it expires, and who it is."""

    token: str
    expires_at: datetime
    principal: Principal

    def to_json(self) -> dict[str, Any]:
        return {"token": self.token, "token_type": "Bearer",
                "expires_at": self.expires_at.isoformat().replace("+00:00", "Z"),
                "expires_in": int(tokens.TOKEN_LIFETIME.total_seconds()), "user": self.principal.to_json()}


# ---- the staff item --------------------------------------------------------------------------------

def _get_user(username: str, consistent: bool = False):

    try:
        return StaffUser.get(username, consistent_read=consistent)
    except StaffUser.DoesNotExist:
        return None


def _is_conditional_failure(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def _locked(user, at: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > at


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
    return Session(token, expires_at, principal)


def _record_failure(user, at: datetime) -> bool:
    """Count a failed login atomically; True when this failure locked the account (or it is locked)."""

    user.update(actions=[StaffUser.failed_logins.add(1)], condition=StaffUser.username.exists())
    if user.failed_logins < MAX_FAILED_LOGINS:
        return False
    try:
        user.update(actions=[StaffUser.locked_until.set(at + LOCK_DURATION), StaffUser.failed_logins.set(0),
                             StaffUser.updated_at.set(at)],
                    condition=StaffUser.failed_logins >= MAX_FAILED_LOGINS)
    except UpdateError as exc:
        if not _is_conditional_failure(exc):
            raise
        # A racing attempt locked it first.
    log.event(logger, "staff account locked", logging.WARNING, username=user.username,
              minutes=int(LOCK_DURATION.total_seconds() // 60))
    return True


def _count_nothing(username: str) -> None:
    """For an unknown user, the same write a wrong password costs, refused by its condition (nothing is
    created): the answer takes as long as for a known user."""


    if not 0 < len(username) <= MAX_USERNAME_LENGTH:
        return
    try:
        StaffUser(username).update(actions=[StaffUser.failed_logins.add(1)], condition=StaffUser.username.exists())
    except UpdateError as exc:
        if not _is_conditional_failure(exc):
            raise


def _record_success(user) -> None:

    if not user.failed_logins and user.locked_until is None:
        return  # nothing to reset: no write
    user.update(actions=[StaffUser.failed_logins.set(0), StaffUser.locked_until.remove()],
                condition=StaffUser.username.exists())


# ---- use cases -------------------------------------------------------------------------------------

def login(username: str, password: str, at: datetime | None = None) -> Session:
    """A session for the right password; `InvalidCredentials` for an unknown user or a wrong password
    (same answer, same argon2 work), `Locked` while the account is locked (whatever the password)."""

    at = at or now()
    username = username.strip().lower()
    user = _get_user(username, consistent=True) if 0 < len(username) <= MAX_USERNAME_LENGTH else None
    if user is None:
        passwords.verify_password(_dummy_hash(), password)
        _count_nothing(username)
        # Not the name typed: people type their password into the username field.
        log.event(logger, "login refused", reason="unknown user")
        raise InvalidCredentials()
    if _locked(user, at):
        log.event(logger, "login refused", username=username, reason="locked")
        raise Locked()
    if not passwords.verify_password(user.password_hash, password):
        locked = _record_failure(user, at)
        log.event(logger, "login refused", username=username, reason="wrong password",
                  failed_logins=user.failed_logins)
        raise Locked() if locked else InvalidCredentials()
    _record_success(user)
    log.event(logger, "login", username=username, role=user.role)
    return _issue(user, at)


def authenticate(token: str) -> Principal:
    """The principal behind a token, checked against the user's item; `TokenInvalid` otherwise."""
    claims = tokens.decode(token)
    user = _get_user(claims["sub"], consistent=True)
    if user is None:
        raise tokens.TokenInvalid("unknown user")
    if int(user.token_version or 0) != claims["ver"]:
        raise tokens.TokenInvalid("revoked")
    if user.role != claims["role"]:
        raise tokens.TokenInvalid("role changed")
    return Principal.from_user(user)


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
                    at: datetime | None = None) -> Session:
    """Set a new password (the old one required) and refuse every earlier token; the answer is a fresh
    session. A wrong old password counts as a failed login (a stolen token must not allow guessing)."""


    at = at or now()
    user = _get_user(principal.username, consistent=True)
    if user is None:
        raise Unauthenticated()
    if _locked(user, at):
        raise Locked()
    if not passwords.verify_password(user.password_hash, old_password):
        locked = _record_failure(user, at)
        log.event(logger, "password change refused", username=user.username, reason="wrong old password")
        raise Locked() if locked else WrongPassword()
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
                             StaffUser.token_version.add(1), StaffUser.failed_logins.set(0),
                             StaffUser.locked_until.remove()],
                    condition=StaffUser.username.exists() & same_version)
    except UpdateError as exc:
        if not _is_conditional_failure(exc):
            raise
        raise Unauthenticated() from None  # signed out (or changed) meanwhile: this token is stale
    log.event(logger, "password changed", username=user.username)
    return _issue(user, at)

