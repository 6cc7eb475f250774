"""Daily statistics of each account (followers, reads), pulled from WeChat's datacube API."""
from __future__ import annotations

from datetime import date, datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.store.accounts import Account
from chalicelib.store.base import table_meta


class AccountDailyStats(Model):
    """One account's figures for one Shanghai day; the monthly bulletin queries a month's range."""

    Meta = table_meta("account_stats")
    account_id = UnicodeAttribute(hash_key=True)
    day = UnicodeAttribute(range_key=True)  # YYYY-MM-DD, Asia/Shanghai
    new_followers = NumberAttribute(default=0)
    lost_followers = NumberAttribute(default=0)
    followers = NumberAttribute(default=0)  # cumulative at the end of the day
    article_reads = NumberAttribute(default=0)  # getuserread: int_page_read_count of all articles that day
    article_readers = NumberAttribute(default=0)
    article_shares = NumberAttribute(default=0)
    # getarticletotal: the articles sent that day, cumulative reads up to seven days after (refreshed on D+6)
    articles = NumberAttribute(null=True)
    post_reads = NumberAttribute(null=True)
    headline_reads = NumberAttribute(null=True)
    post_shares = NumberAttribute(null=True)
    collected_at = UTCDateTimeAttribute(default=clock.now)
    posts_refreshed_at = UTCDateTimeAttribute(null=True)


def account_ids(district_id: str) -> list[str]:
    """Every account of the district (its index; a job's fan-out, never a request path)."""

    return [a.account_id for a in Account.by_district.query(district_id, attributes_to_get=["account_id"])]


def days_present(account_id: str, first: date, last: date) -> list[str]:
    """The days of the range that have an item (one Query, keys only)."""
    return [i.day for i in AccountDailyStats.query(account_id, AccountDailyStats.day.between(
        first.isoformat(), last.isoformat()), attributes_to_get=["day"])]


def save_day(account_id: str, day: date, figures, posts=None, now: datetime | None = None) -> None:
    """One item per account and day: a re-run overwrites it (PutItem)."""
    values = dict(figures.as_dict() if hasattr(figures, "as_dict") else figures.__dict__)
    if posts is not None:
        values.update(posts.as_dict())
    AccountDailyStats(account_id, day.isoformat(), collected_at=now or clock.now(), **values).save()


def save_post_figures(account_id: str, day: date, posts, now: datetime) -> None:
    """The seven-day figures of a day's send onto that day's item (UpdateItem: only these attributes)."""
    actions = [getattr(AccountDailyStats, k).set(v) for k, v in posts.as_dict().items()]
    AccountDailyStats(account_id, day.isoformat()).update(
        actions=actions + [AccountDailyStats.posts_refreshed_at.set(now)])


def month_of(account_id: str, first: date, last: date) -> list[AccountDailyStats]:
    """The bulletin: an account's days of a month (one Query)."""
    return list(AccountDailyStats.query(account_id, AccountDailyStats.day.between(first.isoformat(),
                                                                                  last.isoformat())))
