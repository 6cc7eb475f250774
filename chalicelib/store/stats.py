"""Daily statistics of each account (followers, reads), pulled from WeChat's datacube API."""
from __future__ import annotations

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
    article_reads = NumberAttribute(default=0)  # int_page_read_count summed over the day's articles
    article_readers = NumberAttribute(default=0)
    article_shares = NumberAttribute(default=0)
    collected_at = UTCDateTimeAttribute(default=clock.now)


def account_ids(district_id: str) -> list[str]:
    """Every account of the district (its index; a job's fan-out, never a request path)."""

    return [a.account_id for a in Account.by_district.query(district_id)]


def save_day(account_id: str, day, figures) -> None:
    """One item per account and day: a re-run overwrites it."""
    AccountDailyStats(account_id, day.isoformat(), **figures.__dict__).save()
