"""`monthly-bulletin` and the district overview at district scale on the laptop's moto server.

A synthetic district of N community accounts (100 communities a sub-district), each with a month of daily
statistics, publishing days and 便民纸条 month counters, written with batch writes. Prints, for building the
month's draft bulletin: the DynamoDB requests (goal: O(accounts) — at most 3 per account plus a few batches)
and the wall time; and for the overview's first page (20 communities): its requests (goal: independent of
the district's size) and time.

    python -m bench.monthly_bulletin [--accounts 10000] [--days 30]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.request
from collections import Counter as Tally
from datetime import date, datetime, timedelta, timezone

from bench.daily_post import forget_clients  # (importing it also sets the bench environment)

MONTH = "2026-11"


def main(argv: list[str] | None = None) -> int:
    from bench.table import render

    print(render([("monthly-bulletin", run(argv))]))
    return 0


def run(argv: list[str] | None = None) -> list:
    parser = argparse.ArgumentParser(prog="python -m bench.monthly_bulletin")
    parser.add_argument("--accounts", type=int, nargs="+", default=[66, 10_000])
    parser.add_argument("--days", type=int, default=30, help="days of the month with figures")
    args = parser.parse_args(argv or [])

    import logging

    from local.aws_endpoint import start_in_thread

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    figures = []
    for n in args.accounts:
        server, url = start_in_thread()
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
        os.environ["AWS_ENDPOINT_URL"] = url
        forget_clients()
        try:
            figures += _run(n, args.days)
        finally:
            server.shutdown()
            server.server_close()
            os.environ.pop("AWS_ENDPOINT_URL", None)
            forget_clients()
    return figures


def _run(n_accounts: int, n_days: int) -> list:
    from bench.counting import count_dynamodb
    from bench.table import Figure
    from chalicelib import clock
    from chalicelib.auth.principal import Principal
    from chalicelib.services import bulletin, overview
    from chalicelib.store.accounts import Account
    from chalicelib.store.community_months import CommunityMonth
    from chalicelib.store.org import Community, District, SubDistrict
    from chalicelib.store.posts import PostDay
    from chalicelib.store.registry import create_tables
    from chalicelib.store.stats import AccountDailyStats

    ops: list[str] = []
    count_dynamodb(ops)
    create_tables()
    import boto3  # the overview's cursor is signed with the console key (bench values only)

    boto3.client("ssm", region_name="cn-north-1", endpoint_url=os.environ["AWS_ENDPOINT_URL"]).put_parameter(
        Name="/wechat-alliance/bench/console/jwt_key", Value="bench-only-" + "k" * 40, Type="SecureString",
        Overwrite=True)
    clock.set_clock(datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc))  # the 1st, 10:00 Shanghai
    started = time.perf_counter()
    days = [date(2026, 11, 1) + timedelta(days=d) for d in range(n_days)]
    District("bench", name="基准区", city="基准市", code="BN").save()
    with SubDistrict.batch_write() as subs:
        for s in range((n_accounts + 99) // 100):
            subs.save(SubDistrict("bench", f"s{s:03d}", name=f"街道{s}"))
    with Account.batch_write() as accounts, Community.batch_write() as communities, \
            AccountDailyStats.batch_write() as stats, PostDay.batch_write() as post_days, \
            CommunityMonth.batch_write() as months:
        for i in range(n_accounts):
            a = f"c{i:05d}"
            accounts.save(Account(a, district_id="bench", community_id=a, name=f"社区{i}", account_type="subscription",
                                  appid=f"wx{i:016d}", original_id=f"gh_{i:012d}", encryption_mode="plain"))
            communities.save(Community(a, district_id="bench", subdistrict_id=f"s{i // 100:03d}", name=f"社区{i}",
                                       code="BN"))
            for n, d in enumerate(days):
                stats.save(AccountDailyStats(a, d.isoformat(), followers=1000 + i + n, new_followers=3,
                                             lost_followers=1, article_reads=300, post_reads=(i * 7 + n) % 500,
                                             headline_reads=(i * 5 + n) % 300))
                post_days.save(PostDay(a, d.isoformat(), community_id=a, outcome="sent" if (i + n) % 5 else "missed"))
            months.save(CommunityMonth(a, MONTH, filed=10 + i % 20, completed=8, completed_on_time=7, overdue=i % 3,
                                       rated=4, rating_sum=18, meals_delivered=i % 30, hours=[2.0, 5.5, 30.0]))
    setup = time.perf_counter() - started
    print(f"setup: {n_accounts} accounts, {n_days} days each, written in {setup:.1f} s "
          f"(moto server at {os.environ['AWS_ENDPOINT_URL']})")

    ops.clear()
    started = time.perf_counter()
    result = bulletin.run_job(month=MONTH)
    wall = time.perf_counter() - started
    used = Tally(ops)
    total = len(ops)
    assert result["communities"] == n_accounts, result
    goal = 3 * n_accounts + 50
    print(f"monthly-bulletin at {n_accounts} accounts: {total} DynamoDB requests "
          f"({', '.join(f'{k} {v}' for k, v in sorted(used.items()))}) in {wall:.1f} s")

    admin = Principal("bench.admin", "基准", "district_admin", "bench")
    ops.clear()
    started = time.perf_counter()
    page = overview.page(admin, limit=20)
    overview_wall = time.perf_counter() - started
    overview_ops = len(ops)
    assert len(page["rows"]) == 20, page
    print(f"overview first page at {n_accounts} accounts: {overview_ops} DynamoDB requests "
          f"({', '.join(f'{k} {v}' for k, v in sorted(Tally(ops).items()))}) in {overview_wall:.2f} s")
    clock.reset()
    return [
        Figure(f"bulletin DynamoDB requests ({n_accounts} accounts)", str(total), f"<= {goal} (3/account + 50)",
               total <= goal),
        Figure(f"bulletin wall time ({n_accounts} accounts, moto server)", f"{wall:.1f} s"),
        Figure(f"overview first page requests ({n_accounts} accounts)", str(overview_ops), "<= 70 (O(page))",
               overview_ops <= 70),
        Figure(f"overview first page time ({n_accounts} accounts)", f"{overview_wall:.2f} s"),
    ]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
