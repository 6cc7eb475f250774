"""`daily-stats`: every night, one message per account on the `stats` queue; a worker pulls that
account's figures for the previous Shanghai day from WeChat and stores them. Re-running a day
overwrites the same item, so retries and re-runs are harmless."""
from __future__ import annotations

from datetime import date, datetime

from chalicelib import log
from chalicelib.config import settings
from chalicelib import clock
from chalicelib.domain.dates import yesterday
from chalicelib.domain.statistics import figures_for_day
from chalicelib.domain.errors import PermanentFailure

LOG = log.get_logger("jobs.daily_stats")
QUEUE = "stats"


def fan_out(now: datetime | None = None, day: str | None = None) -> dict:
    """Scheduled entry: queue one collection per account of the district."""
    from chalicelib import queues
    from chalicelib.store.accounts import Account

    target = date.fromisoformat(day) if day else yesterday(now or clock.now())
    accounts = [a.account_id for a in Account.by_district.query(settings().district_id)]
    sent = queues.send(QUEUE, ({"account_id": a, "day": target.isoformat()} for a in accounts))
    log.event(LOG, "daily stats queued", day=target.isoformat(), accounts=sent)
    return {"day": target.isoformat(), "queued": sent}


class WeChatDataCube:
    """`DataCube` over an account's wechatpy client."""

    def __init__(self, account_id: str):
        from chalicelib.wechat.client import client_for

        self._cube = client_for(account_id).datacube

    def user_summary(self, day: date) -> list[dict]:
        return self._cube.get_user_summary(day, day)

    def user_cumulate(self, day: date) -> list[dict]:
        return self._cube.get_user_cumulate(day, day)

    def article_summary(self, day: date) -> list[dict]:
        return self._cube.get_article_summary(day, day)


def collect(message: dict) -> None:
    """Queue entry for one message: {account_id, day}."""
    from chalicelib.store.stats import AccountDailyStats

    try:
        account_id, day = str(message["account_id"]), date.fromisoformat(message["day"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentFailure(f"expected {{account_id, day}}: {exc}") from exc
    with log.bind(account_id=account_id):
        figures = figures_for_day(WeChatDataCube(account_id), day)
        AccountDailyStats(account_id, day.isoformat(), **figures.__dict__).save()
        log.event(LOG, "daily stats stored", day=day.isoformat(), followers=figures.followers)
