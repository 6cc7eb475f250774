"""Demo figures for the monthly bulletin (laptop only): two months of daily statistics for every account, the
community accounts' publishing days, the communities' 便民纸条 month counters, and the earlier month's
bulletin issued (its messages counted as sent), so `make job NAME=monthly-bulletin ARGS="--month 2026-11
--issue"` issues a bulletin with ranks that moved, deductions, charts and the directors' messages.

The figures are derived from hashes of the account and the day: loading twice writes the same items.
Days on or after today (Asia/Shanghai) are left out; publishing days the demo posts already recorded are
kept as they are. Written with batch writes (25 items a request).
"""
from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Iterable

from pynamodb.exceptions import PutError

from chalicelib import clock
from chalicelib.config import settings
from chalicelib.domain import bulletin as bl, dates
from chalicelib.services import bulletin as bulletin_service
from chalicelib.store import bulletins as repo
from chalicelib.store.accounts import Account
from chalicelib.store.community_months import CommunityMonth
from chalicelib.store.posts import PostDay
from chalicelib.store.stats import AccountDailyStats

MONTHS = ("2026-10", "2026-11")
QUIET = {"badaguan": 0.45, "yangkou-lu": 0.5}  # demo communities that post little (deductions show)
LOSING = {"jiangsu-lu"}  # a demo community that loses followers in the second month


def _num(*parts: object, low: int, high: int) -> int:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return low + int(digest[:8], 16) % (high - low + 1)


def activity(account_id: str) -> float:
    """How regularly the account posts (0.55–1.0), fixed per account."""
    return QUIET.get(account_id, 0.55 + _num(account_id, "activity", low=0, high=45) / 100)


def days_of(month: str, before: date) -> list[date]:
    first, last = bl.parse_month(month)
    return [first + timedelta(days=n) for n in range((last - first).days + 1) if first + timedelta(days=n) < before]


def stats_items(account_id: str, community: bool, days: Iterable[date]) -> tuple[list, list]:
    """(daily statistics, publishing days) of the account over `days`."""
    stats, post_days = [], []
    followers = _num(account_id, "base", low=800, high=5000)
    rate = activity(account_id)
    for day in days:
        sent = community and _num(account_id, day, "sent", low=0, high=99) < rate * 100
        new = _num(account_id, day, "new", low=2, high=25)
        lost = _num(account_id, day, "lost", low=0, high=6)
        if account_id in LOSING and day.month == 11:
            new, lost = _num(account_id, day, "new", low=0, high=3), _num(account_id, day, "lost", low=4, high=9)
        followers += new - lost
        reads = int(_num(account_id, day, "reads", low=80, high=900) * rate) if sent else 0
        headline = reads * _num(account_id, day, "head", low=55, high=80) // 100
        stats.append(AccountDailyStats(account_id, day.isoformat(), new_followers=new, lost_followers=lost,
                                       followers=followers, article_reads=reads + _num(account_id, day, "old", low=20,
                                                                                        high=200),
                                       article_readers=reads * 4 // 5, article_shares=reads // 9,
                                       articles=1 if sent else 0, post_reads=reads, headline_reads=headline,
                                       post_shares=reads // 10))
        if community:
            post_days.append(PostDay(account_id, day.isoformat(), community_id=account_id,
                                     outcome="sent" if sent else "missed", mode="mass" if sent else None))
    return stats, post_days


def month_counts(community_id: str, month: str) -> CommunityMonth:
    filed = _num(community_id, month, "filed", low=4, high=40)
    completed = filed * _num(community_id, month, "done", low=65, high=95) // 100
    on_time = completed * _num(community_id, month, "ontime", low=70, high=100) // 100
    rated = completed // 2
    return CommunityMonth(community_id, month, filed=filed, completed=completed, completed_on_time=on_time,
                          overdue=filed * _num(community_id, month, "overdue", low=0, high=13) // 100,
                          rated=rated, rating_sum=sum(_num(community_id, month, n, low=3, high=5) for n in range(rated)),
                          meals_delivered=_num(community_id, month, "meals", low=0, high=60),
                          hours=[float(_num(community_id, month, n, "h", low=2, high=72)) for n in range(completed)])


def load_demo_months(months: Iterable[str] = MONTHS) -> dict[str, int]:
    now = clock.now()
    today = dates.local_date(now)
    district_id = settings().district_id
    counts = {"daily statistics": 0, "publishing days": 0, "month counters": 0}
    accounts = list(Account.by_district.query(district_id))
    months = list(months)
    for month in months:
        days = days_of(month, today)
        if not days:
            continue
        first, last = days[0], days[-1]
        for account in accounts:
            stats, post_days = stats_items(account.account_id, bool(account.community_id), days)
            have = {d.day for d in PostDay.query(account.account_id, PostDay.day.between(
                first.isoformat(), last.isoformat()))}
            with AccountDailyStats.batch_write() as batch:
                for item in stats:
                    batch.save(item)
            with PostDay.batch_write() as batch:
                for item in post_days:
                    if item.day not in have:
                        batch.save(item)
                        counts["publishing days"] += 1
            counts["daily statistics"] += len(stats)
            if account.community_id:
                try:
                    month_counts(account.community_id, month).save(condition=CommunityMonth.month.does_not_exist())
                    counts["month counters"] += 1
                except PutError as exc:
                    if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
                        raise
    # the earlier month's bulletin, issued (and its messages taken as sent), for the month-over-month figures
    earlier = months[0]
    if repo.latest(district_id, earlier) is None and days_of(earlier, today):
        repo.save_draft(district_id, earlier, 1, bulletin_service.compute(district_id, earlier), now)
        item = repo.latest(district_id, earlier)
        repo.issue(item, "seed", now)
        item.update(actions=[repo.Bulletin.notified.set(1)])
        counts["issued bulletins"] = 1
    return counts
