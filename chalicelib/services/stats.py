"""`daily-stats` (每日统计): every morning (08:30 Asia/Shanghai, once WeChat has yesterday's figures), one
message per account on the `stats` queue; a worker pulls that account's figures for the previous Shanghai
day from WeChat's datacube and stores them (which APIs and why: `domain/statistics.py`). Re-running a
day overwrites the same item, so retries and re-runs are harmless; a day that failed is back-filled."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from chalicelib import bootstrap, log
from chalicelib.config import settings
from chalicelib.domain.dates import yesterday
from chalicelib.domain.errors import PermanentFailure
from chalicelib.domain.statistics import (
    BACKFILL_DAYS,
    POST_REFRESH_AFTER,
    days_to_collect,
    figures_for_days,
    post_figures,
)

LOG = log.get_logger("services.stats")
QUEUE = "stats"


def fan_out(now: datetime | None = None, day: str | None = None) -> dict:
    """Scheduled entry: queue one collection per account of the district — in shards past 1,000 accounts
    (`bootstrap.fan_out`), so neither this invocation nor any shard's sends more than ~100 batches."""
    target = date.fromisoformat(day) if day else yesterday(now or bootstrap.now())
    accounts = bootstrap.stats().account_ids(settings().district_id)
    sent = bootstrap.fan_out(QUEUE, ({"account_id": a, "day": target.isoformat()} for a in accounts))
    log.event(LOG, "daily stats queued", day=target.isoformat(), accounts=sent)
    return {"day": target.isoformat(), "queued": sent}


def collect(message: dict) -> None:
    """Queue entry for one message: {account_id, day}. Stores the day, back-fills the days of the last
    week that have no item (a run that failed), and refreshes the send of six days before with its
    seven-day reads. Every write is a put or an update of the day's one item: re-runs overwrite."""
    try:
        account_id, day = str(message["account_id"]), date.fromisoformat(message["day"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentFailure(f"expected {{account_id, day}}: {exc}") from exc
    store, now = bootstrap.stats(), bootstrap.now()
    with log.bind(account_id=account_id):
        present = store.days_present(account_id, day - timedelta(days=BACKFILL_DAYS - 1), day)
        days = days_to_collect(day, present)
        cube = bootstrap.datacube(account_id)
        figures = figures_for_days(cube, days)
        for each in days:
            store.save_day(account_id, each, figures[each], post_figures(cube.article_total(each)), now)
        refresh = day - timedelta(days=POST_REFRESH_AFTER)
        if refresh not in days:
            store.save_post_figures(account_id, refresh, post_figures(cube.article_total(refresh)), now)
        log.event(LOG, "daily stats stored", day=day.isoformat(), followers=figures[day].followers,
                  backfilled=[d.isoformat() for d in days if d != day])
