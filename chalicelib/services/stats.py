"""`daily-stats` (每日统计): every night, one message per account on the `stats` queue; a worker pulls that
account's figures for the previous Shanghai day from WeChat's datacube and stores them. Re-running a
day overwrites the same item, so retries and re-runs are harmless."""
from __future__ import annotations

from datetime import date, datetime

from chalicelib import bootstrap, log
from chalicelib.config import settings
from chalicelib.domain.dates import yesterday
from chalicelib.domain.errors import PermanentFailure
from chalicelib.domain.statistics import figures_for_day

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
    """Queue entry for one message: {account_id, day}."""
    try:
        account_id, day = str(message["account_id"]), date.fromisoformat(message["day"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentFailure(f"expected {{account_id, day}}: {exc}") from exc
    with log.bind(account_id=account_id):
        figures = figures_for_day(bootstrap.datacube(account_id), day)
        bootstrap.stats().save_day(account_id, day, figures)
        log.event(LOG, "daily stats stored", day=day.isoformat(), followers=figures.followers)
