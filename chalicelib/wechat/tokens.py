"""One access token per account for every Lambda copy, refreshed by one winner.

A caller reads the token item. When it is missing, about to expire, or known bad, the caller tries to
take a short lease with a conditional write; the winner fetches a token with WeChat's `stable_token`
and stores it, the others wait for it. A token that WeChat rejects (40001, 42001) is invalidated only
if it is still the current one, so a hundred Lambdas seeing the same bad token cause one refresh.
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Callable

from pynamodb.exceptions import PutError, UpdateError

from chalicelib import clock as _clock, log
from chalicelib.domain.records import record
from chalicelib.store.tokens import AccessToken

LOG = log.get_logger("wechat.tokens")
REFRESH_MARGIN = timedelta(seconds=120)  # refresh this long before WeChat's expiry
LEASE = timedelta(seconds=10)  # how long one refresher may hold the lease
WAIT_STEP_S = 0.1


class TokenUnavailable(RuntimeError):
    """No token could be had in time (WeChat refused, or the refresher did not finish)."""


@record
class FreshToken:
    token: str
    expires_in: int


Fetcher = Callable[[str, bool], FreshToken]  # (account_id, force_refresh) -> token


class TokenStore:
    def __init__(self, fetch: Fetcher, clock: Callable[[], datetime] | None = None,
                 sleep: Callable[[float], None] = time.sleep, wait_s: float = 4.0):
        self._fetch = fetch
        self._clock = clock or _clock.now
        self._sleep = sleep
        self._wait_s = wait_s
        self._owner = uuid.uuid4().hex

    def get(self, account_id: str, rejected: str | None = None) -> str:
        """The account's valid token; `rejected` names a token WeChat just refused."""
        waited = 0.0
        while True:
            item = self._read(account_id)
            now = self._clock()
            current = item.token if item else None
            usable = current and item.expires_at and item.expires_at - REFRESH_MARGIN > now
            if usable and current != rejected:
                return current
            if self._take_lease(account_id, current, now):
                return self._refresh(account_id, force=bool(rejected) and current == rejected)
            if waited >= self._wait_s:
                raise TokenUnavailable(f"account {account_id}: no access token after {waited:.1f} s")
            self._sleep(WAIT_STEP_S)
            waited += WAIT_STEP_S

    def _read(self, account_id: str) -> AccessToken | None:
        try:
            return AccessToken.get(account_id, consistent_read=True)
        except AccessToken.DoesNotExist:
            return None

    def _take_lease(self, account_id: str, seen_token: str | None, now: datetime) -> bool:
        """One conditional write: the lease is free (or stale) and nobody replaced the token meanwhile."""

        lease_free = AccessToken.lease_until.does_not_exist() | (AccessToken.lease_until < now)
        unchanged = (AccessToken.token.does_not_exist() if seen_token is None
                     else AccessToken.token == seen_token)
        item = AccessToken(account_id)
        try:
            item.update(actions=[AccessToken.lease_owner.set(self._owner),
                                 AccessToken.lease_until.set(now + LEASE)],
                        condition=lease_free & unchanged)
            return True
        except (UpdateError, PutError) as exc:
            if _is_condition_failure(exc):
                return False
            raise

    def _refresh(self, account_id: str, force: bool) -> str:
        try:
            fresh = self._fetch(account_id, force)
        except Exception:
            self._release(account_id)
            raise
        now = self._clock()
        AccessToken(account_id).update(actions=[
            AccessToken.token.set(fresh.token),
            AccessToken.expires_at.set(now + timedelta(seconds=fresh.expires_in)),
            AccessToken.refreshed_at.set(now),
            AccessToken.lease_owner.remove(),
            AccessToken.lease_until.remove(),
        ])
        log.event(LOG, "access token refreshed", account_id=account_id, forced=force,
                  expires_in=fresh.expires_in)
        return fresh.token

    def _release(self, account_id: str) -> None:

        try:
            AccessToken(account_id).update(actions=[AccessToken.lease_owner.remove(),
                                                    AccessToken.lease_until.remove()],
                                           condition=AccessToken.lease_owner == self._owner)
        except UpdateError as exc:
            if not _is_condition_failure(exc):
                raise


def _is_condition_failure(exc: Exception) -> bool:
    cause = getattr(exc, "cause_response_code", None)
    return cause == "ConditionalCheckFailedException"
