"""Scale (issue #18), at the seed's 66 accounts and at 10,000 (generated like the seed with batch writes,
`local/scale.py`): each list's first-page DynamoDB requests with 10,000 requests in one community, the
communities page, daily-stats' SQS calls per invocation (the scheduler, and each shard), the matrix
search's requests and bytes on a cold container, and a container's first callback against a warm one.

    python -m bench.scale [--accounts 10000] [--only matrix]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.daily_post import forget_clients
from bench.table import Figure, render

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("AWS_DEFAULT_REGION", "cn-north-1")
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "STAGE": "bench",
                   "ARGON2_PROFILE": "CHEAPEST", "SSM_PREFIX": "/wechat-alliance/bench", "DISTRICT_ID": "shinan"})

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=timezone.utc)


def run(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(prog="python -m bench.scale")
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--only", choices=("matrix",), help="measure only the matrix search")
    args = parser.parse_args(argv or [])
    if args.only == "matrix":
        return in_moto(args.accounts, matrix_only=True)
    figures = first_callback()
    figures += in_moto(args.accounts)
    return figures


# ---- a container's first callback against a warm one --------------------------------------------------

# A fresh interpreter plays a Lambda container against the moto server this process seeded: its
# libraries, then `import app` (Lambda's init phase: with AWS_LAMBDA_FUNCTION_NAME set, app.py also builds
# the AWS clients, `bootstrap.warm_up`), then the first callback and thirty warm ones.
_CONTAINER = r"""
import json, statistics, sys, time
started = time.perf_counter()
import chalice.app, botocore.session, pynamodb.models, cryptography.hazmat.primitives.ciphers  # the libraries
import wechatpy.crypto  # the test driver's, to encrypt its messages (the platform's callback path needs none)
libraries = time.perf_counter() - started
started = time.perf_counter()
import app as app_module
init = time.perf_counter() - started
from chalice.test import Client
from chalicelib import bootstrap
from local import seed as seed_module
from tests.wechat_driver import WeChat
seed = seed_module.read()
with Client(app_module.app, stage_name="bench") as client:
    wx = WeChat(client.http, "xianggang-huayuan", seed)
    started = time.perf_counter()
    assert wx.text("o-first", "聽說食堂明天有什麼菜").status == 200
    first = time.perf_counter() - started
    warm = []
    for i in range(30):
        started = time.perf_counter()
        assert wx.text(f"o-warm-{i}", "後天有沒有餃子").status == 200
        warm.append(time.perf_counter() - started)
    other = WeChat(client.http, "jiangsu-lu", seed)  # an account this container has not seen yet
    started = time.perf_counter()
    assert other.text("o-first", "聽說食堂明天有什麼菜").status == 200
    cold_account = time.perf_counter() - started
print(json.dumps({"libraries": libraries, "init": init, "warm_up": bootstrap.WARM_UP_SECONDS[0], "first": first,
                  "warm": statistics.median(warm), "cold_account": cold_account,
                  "pkg_resources": "pkg_resources" in sys.modules}))
"""


def first_callback() -> list[Figure]:
    """Lambda's init phase, the first callback after it, and a warm one, in fresh processes (the median of
    RUNS each): as Lambda runs it (AWS_LAMBDA_FUNCTION_NAME set: init builds the AWS clients, reads the
    deployed stage's keys) and without the init warm-up (the clients are built by the first callback)."""
    import logging
    import urllib.request

    import secrets

    from chalicelib.auth.tokens import h5_key_store, signing_key_store
    from chalicelib.queues import create_queues
    from chalicelib.store.registry import create_tables
    from local import seed as seed_module
    from local.aws_endpoint import start_in_thread

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server, url = start_in_thread()
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
    os.environ["AWS_ENDPOINT_URL"] = url
    forget_clients()
    try:
        create_tables()
        create_queues()
        seed_module.load(seed_module.read())
        # In Lambda (AWS_LAMBDA_FUNCTION_NAME set) the stage counts as deployed and refuses the seed's demo
        # keys: the container gets keys a deployed stage accepts, and checks them on its first request.
        for store in (signing_key_store(), h5_key_store()):
            store.put(secrets.token_hex(32))
        _container(url, True)  # moto's own first calls (its code paths, not DynamoDB's) are not the platform's
        runs = {lambda_env: _median_of(url, lambda_env, RUNS) for lambda_env in (True, False)}
    finally:
        server.shutdown()
        server.server_close()
        os.environ.pop("AWS_ENDPOINT_URL", None)
        forget_clients()
    failed = [f"{'Lambda' if k else 'no warm-up'}: {v}" for k, v in runs.items() if isinstance(v, str)]
    if failed:
        return [Figure("first vs warm callback", f"failed: {'; '.join(failed)[:120]}", "", False)]
    lam, plain = runs[True], runs[False]
    ratio = lam["ratio"]
    return [
        Figure("container: libraries' import (chalice, botocore, pynamodb, cryptography)",
               f"{lam['libraries'] * 1000:.0f} ms"),
        Figure("Lambda init: import app with its warm-up (AWS clients built)", f"{lam['init'] * 1000:.0f} ms"),
        Figure("  of which the warm-up (bootstrap.warm_up)", f"{lam['warm_up'] * 1000:.0f} ms"),
        Figure("first callback after Lambda init (a cold account: secrets, canteen; a small district's facts "
               "and rules read at init)", f"{lam['first'] * 1000:.1f} ms"),
        Figure("warm callback (median of 30)", f"{lam['warm'] * 1000:.1f} ms"),
        Figure("first / warm callback, after Lambda init", f"{ratio:.1f}x", "<= 5", ratio <= 5),
        Figure("a warm container's first callback for another account (its secrets, canteen and menus)",
               f"{lam['cold_account'] * 1000:.1f} ms ({lam['cold_account'] / lam['warm']:.1f}x warm)"),
        Figure("first callback / a warm container's cold account (what the container's coldness adds)",
               f"{lam['first'] / lam['cold_account']:.2f}x"),
        Figure("without the warm-up: import app / first callback", f"{plain['init'] * 1000:.0f} ms / "
               f"{plain['first'] * 1000:.0f} ms ({plain['ratio']:.1f}x warm)"),
        Figure("import app + first callback: without the warm-up vs with it",
               f"{(plain['init'] + plain['first']) * 1000:.0f} ms vs {(lam['init'] + lam['first']) * 1000:.0f} ms"),
        Figure("pkg_resources imported", str(lam["pkg_resources"]), "False", not lam["pkg_resources"]),
    ]


RUNS = 3  # containers of each kind; each figure is their median (wall time on a shared machine is noisy)


def _median_of(url: str, lambda_env: bool, runs: int) -> dict | str:
    done = [_container(url, lambda_env) for _ in range(runs)]
    failed = [d for d in done if isinstance(d, str)]
    if failed:
        return failed[0]
    keys = ("libraries", "init", "warm_up", "first", "warm", "cold_account")
    figures = {key: statistics.median(d[key] for d in done) for key in keys}
    figures["ratio"] = statistics.median(d["first"] / d["warm"] for d in done)
    figures["pkg_resources"] = any(d["pkg_resources"] for d in done)
    return figures


def _container(url: str, lambda_env: bool) -> dict | str:
    env = {**os.environ, "AWS_ENDPOINT_URL": url}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("AWS_LAMBDA_FUNCTION_NAME", None)
    if lambda_env:
        env["AWS_LAMBDA_FUNCTION_NAME"] = "bench-first-callback"
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", _CONTAINER], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, env=env)
    if done.returncode:
        return (done.stderr.strip().splitlines() or ["no output"])[-1][:80]
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- lists, fan-out and the matrix in moto ---------------------------------------------------------

def in_moto(n_accounts: int, matrix_only: bool = False) -> list[Figure]:
    from moto import mock_aws

    from bench.counting import count_dynamodb
    from local.aws_endpoint import linear_sqs_sends

    calls: list[str] = []
    sizes: list[int] = []
    stop_counting = count_dynamodb(calls, sizes)
    linear_sqs_sends()
    figures: list[Figure] = []
    try:
        for scale in (66, n_accounts):
            with mock_aws():
                if matrix_only:
                    from chalicelib.store.registry import create_tables
                    forget_clients()
                    create_tables()
                    figures += _matrix(scale, calls, sizes)
                else:
                    figures += _at_scale(scale, calls, sizes)
    finally:
        stop_counting()
    return figures


def _at_scale(n: int, calls: list[str], sizes: list[int]) -> list[Figure]:
    from chalicelib import clock, queues
    from chalicelib.auth.principal import Principal
    from chalicelib.auth.tokens import signing_key_store
    from chalicelib.queues import create_queues
    from chalicelib.services import directory, open311, requests as desk, stats
    from chalicelib.store.org import District
    from chalicelib.store.registry import create_tables
    from local import scale

    forget_clients()
    create_tables()
    create_queues()
    signing_key_store().put("k" * 64)
    District("shinan", name="市南区", city="青岛", code="SN").save()
    started = time.perf_counter()
    ids = scale.communities("shinan", n, teams_each=1)
    home = ids[0]
    history = 10_000 if n > 66 else 200
    scale.requests("shinan", home, "SA", history, NOW, team_id=f"{home}-t0", overdue_every=97,
                   states=("closed",) * 30 + ("done", "cancelled", "submitted", "in_progress"))
    print(f"{n} accounts, {history} requests in one community: written in {time.perf_counter() - started:.0f} s")
    clock.set_clock(NOW)
    admin = Principal("admin", "区管理员", "district_admin", "shinan")
    worker = Principal("sw", "社工", "social_worker", "shinan", community_id=home)
    team = Principal("t", "队员", "team_member", "shinan", community_id=home, team_id=f"{home}-t0")
    desk.list_for(admin, community_id=home)
    open311.search_requests({"jurisdiction_id": home})  # warm the per-container account facts and teams
    lists = [
        ("inbox, no filter", lambda: desk.list_for(admin, community_id=home)),
        ("inbox, a state with no match", lambda: desk.list_for(admin, community_id=home, state="rejected")),
        ("inbox, a rare state", lambda: desk.list_for(admin, community_id=home, state="submitted")),
        ("inbox, a category", lambda: desk.list_for(admin, community_id=home, category="care_visit")),
        ("inbox, a state and a category", lambda: desk.list_for(admin, community_id=home, state="closed",
                                                                category="repairs")),
        ("team's list, a state", lambda: desk.list_for(team, state="in_progress")),
        ("overdue of a community", lambda: desk.overdue_for(worker, None)),
        ("Open311 status=closed", lambda: open311.search_requests({"jurisdiction_id": home, "status": "closed"})),
        ("communities, first page", lambda: directory.communities(admin)),
    ]
    figures = []
    for title, call in lists:
        calls.clear()
        call()
        figures.append(Figure(f"[{n} accounts, {history} requests] {title}: requests", str(len(calls)), "<= 3",
                              len(calls) <= 3))
    # daily-stats: the scheduler's SQS calls, then each shard's invocation
    sqs_calls: list[str] = []
    queues._sqs().meta.events.register("before-call.sqs", lambda model, **_: sqs_calls.append(model.name))
    queues.queue_url("stats")  # deployed, queue URLs come from the environment: not counted as the job's calls
    queues.queue_url(queues.FANOUT)
    sqs_calls.clear()
    stats.fan_out(day="2026-11-30")
    scheduler = sqs_calls.count("SendMessageBatch")
    shard_most = 0
    url = queues.queue_url(queues.FANOUT)
    while True:
        got = queues._sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", [])
        if not got:
            break
        sqs_calls.clear()
        queues.send_shard(json.loads(got[0]["Body"]))
        shard_most = max(shard_most, sqs_calls.count("SendMessageBatch"))
        queues._sqs().delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    figures += [Figure(f"[{n} accounts] daily-stats scheduler: SendMessageBatch", str(scheduler), "<= 100",
                       scheduler <= 100),
                Figure(f"[{n} accounts] daily-stats shard invocation: SendMessageBatch (max)", str(shard_most),
                       "<= 100", shard_most <= 100)]
    figures += _matrix(n, calls, sizes)
    clock.reset()
    return figures


MATRIX_QUERIES = (("a community by name", "第{last}社区"), ("a word (法官)", "法官"), ("a category (学校)", "学校"),
                  ("a platform (微博)", "微博"), ("every community (社区)", "社区"))


def _matrix(n: int, calls: list[str], sizes: list[int]) -> list[Figure]:
    """The matrix in the seed's shape (one entry per community account, the sub-districts, the seed's
    departments, schools, courts and services), written by `replace_all` with batch writes; then each
    search on a cold container (no cached head or shard, no client): requests and response bytes."""
    from chalicelib.store import matrix as matrix_store
    from chalicelib.store.ports import DynamoPorts
    from chalicelib.store.registry import ALL_MODELS
    from local import scale

    entries = scale.matrix_entries(n, subdistricts=max(1, min(100, n // 10)))  # one per community account
    calls.clear()
    started = time.perf_counter()
    head = matrix_store.replace_all("shinan", entries, "bench")
    written = time.perf_counter() - started
    figures = [Figure(f"[{n} accounts] matrix of {len(entries):,} entries written: BatchWriteItem / seconds",
                      f"{calls.count('BatchWriteItem')} / {written:.1f} s"
                      + (f" (generation {head.generation}, {len(head.stop)} stop grams)" if head.generation
                         else " (one item: the head holds every entry)"))]
    for title, query in MATRIX_QUERIES:
        query = query.format(last=n - 1)
        _reset_caches()
        for model in ALL_MODELS:  # a cold container has no DynamoDB client yet either
            model._connection = None
        calls.clear()
        sizes.clear()
        DynamoPorts().matrix("shinan", query)
        cold_calls, cold_bytes = len(calls), sum(sizes)
        calls.clear()
        DynamoPorts().matrix("shinan", query)
        figures.append(Figure(f"[{n} accounts] matrix search, cold, {title}: requests / bytes read (warm requests)",
                              f"{cold_calls} / {cold_bytes:,} ({len(calls)})", "<= 2 / <= 100,000",
                              cold_calls <= 2 and cold_bytes <= 100_000 and len(calls) <= 2))
    return figures


def _reset_caches() -> None:
    from chalicelib.store import ports
    ports.ACCOUNT_CACHE.clear()
    ports.RULES_CACHE.clear()


def main(argv: list[str] | None = None) -> int:
    print(render([("scale", run(argv))]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
