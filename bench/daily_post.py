"""`daily-post` at district scale on the laptop's moto server: 10,000 accounts, each with an approved post
for today. Prints the scheduler's SQS calls (issue #13's goal was <= 1,000; sharded since issue #18, the
goal is <= 100 an invocation: the scheduler sends shards of 1,000 messages to the fanout queue, each
shard's invocation sends its messages), its wall time, and the DynamoDB requests the worker makes per
account (goal <= 3, plus WeChat's calls, here a counting fake: draft/add and the mass send). The moto
server's SQS answers in time independent of a queue's length (`local.aws_endpoint.linear_sqs_sends`).

    python -m bench.daily_post [--accounts 10000] [--sample 200]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import urllib.request

os.environ.update({"AWS_DEFAULT_REGION": "cn-north-1", "AWS_REGION": "cn-north-1", "AWS_ACCESS_KEY_ID": "bench",
                   "AWS_SECRET_ACCESS_KEY": "bench", "STAGE": "bench", "SSM_PREFIX": "/wechat-alliance/bench",
                   "DISTRICT_ID": "bench", "LOG_LEVEL": "WARNING",
                   "STORAGE_READ_TIMEOUT_S": "120"})  # moto answers a query over 10,000 items slowly, not DynamoDB


class CountingWeChat:
    """WeChat's publishing calls, answered at once and counted."""

    calls = 0

    def __init__(self, account_id: str):
        self.draft = self.mass = self.freepublish = self

    def add(self, articles):
        CountingWeChat.calls += 1
        return "media-bench"

    def send_article_to_all(self, media_id, clientmsgid):
        CountingWeChat.calls += 1
        return {"msg_id": 1000 + CountingWeChat.calls}


def _take(queue: str, limit: int | None = None) -> list[dict]:
    """The queue's messages (up to `limit`), as JSON, received and deleted ten at a time."""
    import json

    from chalicelib import queues

    sqs, url, got = queues._sqs(), queues.queue_url(queue), []
    while True:
        if limit is not None and len(got) >= limit:
            return got
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return got
        got += [json.loads(m["Body"]) for m in batch]
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                        for i, m in enumerate(batch)])


def main(argv: list[str] | None = None) -> int:
    from bench.table import render

    print(render([("daily-post", run(argv))]))
    return 0


def run(argv: list[str] | None = None) -> list:
    """The figures (`bench.table.Figure`), for `make bench`."""
    parser = argparse.ArgumentParser(prog="python -m bench.daily_post")
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=200, help="worker messages measured")
    args = parser.parse_args(argv or [])

    import logging

    from local.aws_endpoint import start_in_thread

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log line per moto request
    server, url = start_in_thread()
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
    os.environ["AWS_ENDPOINT_URL"] = url
    forget_clients()  # `make bench` ran other benchmarks (in moto's mock) in this process before
    try:
        return _run(args.accounts, args.sample)
    finally:
        server.shutdown()
        server.server_close()
        os.environ.pop("AWS_ENDPOINT_URL", None)
        forget_clients()


def forget_clients() -> None:
    """Drop every AWS client and cache this process built, so the next calls go to the endpoint now set."""
    from chalicelib import bootstrap, config, queues, secrets
    from chalicelib.store import ports
    from chalicelib.store.base import forget_session, transaction_connection
    from chalicelib.store.registry import ALL_MODELS
    from chalicelib.wechat import client

    for model in ALL_MODELS:
        model._connection = None
    for cached in (config.settings, queues._sqs, queues.queue_url, client.token_store, transaction_connection):
        cached.cache_clear()
    secrets._STORE = None
    ports.ACCOUNT_CACHE.clear()
    ports.RULES_CACHE.clear()
    bootstrap.reset()
    forget_session()


def _run(n_accounts: int, sample: int) -> list:
    from bench.counting import count_dynamodb
    from chalicelib import bootstrap, clock, queues
    from chalicelib.domain import dates, publishing as pub
    from chalicelib.queues import create_queues
    from chalicelib.services import post_delivery
    from chalicelib.store.accounts import Account
    from chalicelib.store.posts import PostItem, pack
    from chalicelib.store.registry import create_tables
    from bench.table import Figure

    dynamo_ops: list[str] = []
    count_dynamodb(dynamo_ops)
    create_tables()
    create_queues()
    now = clock.now()
    today = dates.local_date(now)
    article = [pub.ArticleDraft(title="今日发布", content="<p>" + "社区新闻。" * 300 + "</p>",
                                cover_media_id="cover").to_dict()]
    started = time.perf_counter()
    with Account.batch_write() as accounts, PostItem.batch_write() as posts:
        for i in range(n_accounts):
            a = f"bench-{i:05d}"
            accounts.save(Account(a, district_id="bench", community_id=a, name=f"社区{i}", account_type="subscription",
                                  appid=f"wx{i:016d}", original_id=f"gh_{i:012d}", encryption_mode="plain"))
            posts.save(PostItem(f"P{today:%Y%m%d}-{i:08x}", account_id=a, community_id=a, subdistrict_id="s",
                                district_id="bench", topic="今日发布", planned_day=today.isoformat(), slot="08:00",
                                state="scheduled", articles=pack(article), revision=3, reviewed_revision=3,
                                authors='["sw"]', version=5))
    print(f"setup: {n_accounts} accounts and approved posts written in {time.perf_counter() - started:.1f} s "
          f"(moto server at {os.environ['AWS_ENDPOINT_URL']})")

    sqs_calls: list[str] = []
    sqs_time = [0.0, 0.0]  # started, total

    def sqs_before(model, **_):
        sqs_calls.append(model.name)
        sqs_time[0] = time.perf_counter()

    def sqs_after(**_):
        sqs_time[1] += time.perf_counter() - sqs_time[0]

    queues._sqs().meta.events.register("before-call.sqs", sqs_before)
    queues._sqs().meta.events.register("after-call.sqs", sqs_after)
    queues.queue_url("posts")  # resolved once per container
    queues.queue_url(queues.FANOUT)
    sqs_calls.clear()
    dynamo_ops.clear()
    started = time.perf_counter()
    result = post_delivery.enqueue_day(now, today)
    wall = time.perf_counter() - started
    scheduler_dynamo = len(dynamo_ops)
    scheduler_sqs = len(sqs_calls)
    print(f"scheduler: {result['queued']} messages for {result['accounts']} accounts, {result['missed']} missed")
    print(f"  SQS calls {scheduler_sqs} ({sqs_calls.count('SendMessageBatch')} SendMessageBatch)  goal <= 100")
    print(f"  DynamoDB requests {len(dynamo_ops)} ({', '.join(sorted(set(dynamo_ops)))})")
    print(f"  wall time {wall:.1f} s, of which waiting for SQS {sqs_time[1]:.1f} s")
    # Each shard is one invocation of the fanout worker (batch size 1): its SQS calls, one shard at a time.
    shards = _take(queues.FANOUT)
    shard_calls, shard_walls = [], []
    for shard in shards:
        sqs_calls.clear()
        began = time.perf_counter()
        queues.send_shard(shard)
        shard_walls.append(time.perf_counter() - began)
        shard_calls.append(len(sqs_calls))
    taken = _take("posts", sample)  # the sample the worker measurement takes (the rest stays queued)
    print(f"  {len(shards)} shard(s): SQS calls per shard invocation max {max(shard_calls or [0])}, "
          f"wall max {max(shard_walls or [0]):.1f} s; {sum(len(s['messages']) for s in shards)} worker messages")

    per_account: list[int] = []
    wechat_calls: list[int] = []
    with bootstrap.override(wechat=CountingWeChat):
        for body in taken[:sample]:
            dynamo_ops.clear()
            before = CountingWeChat.calls
            outcome = post_delivery.send_post(body)
            assert outcome == "mass", outcome
            per_account.append(len(dynamo_ops))
            wechat_calls.append(CountingWeChat.calls - before)
    worst = max(per_account)
    most = max([scheduler_sqs] + shard_calls)
    figures = [
        Figure(f"scheduler SQS calls ({n_accounts} accounts)", str(scheduler_sqs), "<= 100", scheduler_sqs <= 100),
        Figure("SQS calls per shard invocation (max)", str(max(shard_calls or [0])), "<= 100", most <= 100),
        Figure("shards", str(len(shards))),
        Figure("scheduler wall time (moto server)", f"{wall:.1f} s"),
        Figure("scheduler DynamoDB requests", str(scheduler_dynamo)),
        Figure("worker DynamoDB requests per account (max)", str(worst), "<= 3", worst <= 3),
        Figure("worker WeChat calls per account", str(max(wechat_calls))),
    ]
    print(f"worker ({len(per_account)} accounts measured): DynamoDB requests per account mean "
          f"{statistics.mean(per_account):.2f}, max {worst}  goal <= 3  {'ok' if worst <= 3 else 'OVER'}; "
          f"WeChat calls per account {max(wechat_calls)} (draft/add, message/mass/sendall)")
    return figures


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
