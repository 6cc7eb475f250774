"""Abuse limits as data (限流): staff sign-in and residents' 便民纸条. Plain Python, no storage.

Counts live in fixed time windows (`window_start`): a count belongs to the window it was made in and is
gone when the window is over, so nothing needs resetting and nothing lives forever.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from chalicelib.domain.dates import SHANGHAI
from chalicelib.domain.records import record

# ---- staff sign-in -------------------------------------------------------------------------------------

LOGIN_FAILURE_WINDOW = timedelta(minutes=15)  # failures are remembered for this window and the one before
LOGIN_PAIR_LIMIT = 5  # failures of one username from one address: that address is answered "wrong password"
LOGIN_ADDRESS_LIMIT = 20  # failures from one address over all usernames (password spraying): likewise
LOGIN_DELAY_AFTER = 5  # failures of one username from anywhere: from then on every answer is slowed
LOGIN_MAX_DELAY_S = 4.0
LOGIN_RATE_WINDOW = timedelta(minutes=1)  # login requests per address in it: settings().login_rate_per_address


def login_delay(username_failures: int) -> float:
    """Seconds to wait before answering a login for a username with this many recent failures (from any
    address): none up to LOGIN_DELAY_AFTER, then 0.25 s doubling each failure, at most LOGIN_MAX_DELAY_S.
    Nobody can lock a username out; guessing it from many addresses just gets slow."""
    if username_failures <= LOGIN_DELAY_AFTER:
        return 0.0
    return min(0.25 * 2 ** (username_failures - LOGIN_DELAY_AFTER - 1), LOGIN_MAX_DELAY_S)


def login_failure_key(username: str, epoch: int = 0, max_length: int = 64) -> str:
    """The part of the login-failure counters' keys that names the username and its unlock generation (an
    unlock adds one to the user's `login_epoch`, so the counts start afresh)."""
    name = username if 0 < len(username) <= max_length else "?"
    return f"{name}~{int(epoch)}" if epoch else name


def login_barred(pair_failures: int, address_failures: int) -> bool:
    """This address has failed too often (for this username, or over all): its attempts are answered as
    a wrong password, whatever the password, so the answer tells nothing; other addresses are unaffected."""
    return pair_failures >= LOGIN_PAIR_LIMIT or address_failures >= LOGIN_ADDRESS_LIMIT


# ---- residents' 便民纸条 ----------------------------------------------------------------------------------

LIMIT_REPLY = ("您近期提交的便民纸条较多（每小时最多{per_hour}张、每天最多{per_day}张），工作人员正在逐一处理。"
               "如有急事请直接拨打社区电话；回复“我的纸条”可查看办理进度。")
BLOCKED_REPLY = "您的便民纸条暂时无法提交，请直接联系社区工作人员。"


@record
class ResidentLimits:
    """How many 便民纸条 one sender (an openid in chat, an H5 session) may file: per hour and per Shanghai day.
    A district sets its own in its request policy (`"limits": {"per_hour": 10, "per_day": 30}`)."""

    per_hour: int = 10
    per_day: int = 30

    @classmethod
    def from_policy(cls, data: Mapping[str, Any] | None) -> "ResidentLimits":
        data = data or {}
        values = {}
        for name in ("per_hour", "per_day"):
            value = data.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 10_000:
                values[name] = value
        return cls(**values)

    def refusal(self, this_hour: int, today: int) -> str | None:
        """The kind answer when one more would pass a limit, else None."""
        if this_hour >= self.per_hour or today >= self.per_day:
            return LIMIT_REPLY.format(per_hour=self.per_hour, per_day=self.per_day)
        return None


DEFAULT_RESIDENT_LIMITS = ResidentLimits()


def window_start(now: datetime, window: timedelta) -> datetime:
    """The start of the fixed window holding `now` (UTC, aligned to the epoch)."""
    seconds = int(window.total_seconds())
    stamp = int(now.timestamp())
    return datetime.fromtimestamp(stamp - stamp % seconds, timezone.utc)


def shanghai_day(now: datetime) -> str:
    return now.astimezone(SHANGHAI).strftime("%Y%m%d")


def shanghai_hour(now: datetime) -> str:
    return now.astimezone(SHANGHAI).strftime("%Y%m%d%H")


@record
class SenderQuota:
    """Effect: count one 便民纸条 against its sender's hourly and daily windows, written with the request in
    one transaction and refused (with `refused_reply`) once a window is full, or while staff have blocked
    the sender (with BLOCKED_REPLY). Nothing is filed when refused."""

    account_id: str
    openid: str
    windows: tuple[tuple[str, int, datetime], ...]  # (counter id, limit, forget after)
    refused_reply: str


def sender_quota(account_id: str, openid: str, now: datetime, limits: ResidentLimits,
                 senders: tuple[str, ...] = ()) -> SenderQuota:
    """The quota effect of one filing by (account, openid), also counted for each of `senders` (e.g. an H5
    session); windows are the Shanghai clock hour and day."""
    hour, day = shanghai_hour(now), shanghai_day(now)
    windows = []
    for sender in (f"{account_id}#{openid}",) + senders:
        windows.append((f"quota#{sender}#h{hour}", limits.per_hour, now + timedelta(days=1)))
        windows.append((f"quota#{sender}#d{day}", limits.per_day, now + timedelta(days=2)))
    return SenderQuota(account_id, openid, tuple(windows), limits.refusal(limits.per_hour, limits.per_day) or "")
