"""Fan-out in shards (扇出分片): no invocation sends more than ~100 SendMessageBatch calls, whatever the
number of accounts; every message arrives; shards fit SQS's message and batch limits. SQS calls are
counted on the client, against moto."""
from __future__ import annotations

import json
from datetime import date

import pytest

from chalicelib import queues
from chalicelib.domain.errors import PermanentFailure
from chalicelib.services import stats
from local import scale
from local.aws_endpoint import linear_sqs_sends


@pytest.fixture
def sqs_calls(aws):
    linear_sqs_sends()  # moto's own sends cost O(queue length) each: see local/aws_endpoint.py
    calls: list[str] = []
    queues._sqs().meta.events.register("before-call.sqs", lambda model, **_: calls.append(model.name))
    return calls


def drain(queue: str) -> list[dict]:
    url, got = queues.queue_url(queue), []
    while True:
        batch = queues._sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return got
        got += [json.loads(m["Body"]) for m in batch]
        queues._sqs().delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])


def test_a_small_fan_out_goes_straight_to_its_queue(sqs_calls):
    assert queues.fan_out("stats", ({"account_id": f"a{i}", "day": "2026-12-01"} for i in range(66))) == 66
    assert sqs_calls.count("SendMessageBatch") == 7
    assert drain(queues.FANOUT) == [] and len(drain("stats")) == 66


def test_a_large_fan_out_is_sent_in_shards_of_at_most_a_hundred_batches(sqs_calls):
    bodies = [{"account_id": f"a{i:05d}", "day": "2026-12-01"} for i in range(2_500)]
    queues.fan_out("stats", bodies)
    assert sqs_calls.count("SendMessageBatch") == 1  # the scheduler: three shards in one batch
    shards = drain(queues.FANOUT)
    assert [len(s["messages"]) for s in shards] == [1000, 1000, 500] and {s["queue"] for s in shards} == {"stats"}
    for shard in shards:  # each shard is one invocation of the fanout worker (batch size 1)
        sqs_calls.clear()
        queues.send_shard(shard)
        assert sqs_calls.count("SendMessageBatch") <= 100
    assert sorted(m["account_id"] for m in drain("stats")) == [b["account_id"] for b in bodies]


def test_shards_and_batches_stay_within_sqs_size_limits(sqs_calls):
    bodies = [{"account_id": f"a{i}", "note": "长" * 3000} for i in range(100)]  # ~9 KB each in UTF-8
    queues.fan_out("posts", bodies, shard_messages=10)
    shards = drain(queues.FANOUT)
    assert all(len(json.dumps(s, ensure_ascii=False).encode()) < queues.MAX_MESSAGE_BYTES for s in shards)
    assert sum(len(s["messages"]) for s in shards) == 100
    sqs_calls.clear()
    queues.send("posts", [{"note": "长" * 40_000} for _ in range(10)])  # 120 KB each: two a batch
    assert sqs_calls.count("SendMessageBatch") == 5


def test_a_shard_for_an_unknown_queue_or_the_fanout_queue_itself_is_refused(aws):
    for bad in ({"queue": "nope", "messages": []}, {"queue": queues.FANOUT, "messages": [{}]},
                {"queue": "stats", "messages": "x"}, {"queue": "stats", "messages": [1]}):
        with pytest.raises(PermanentFailure):
            queues.send_shard(bad)


def test_daily_stats_at_2500_accounts_is_one_batch_for_the_scheduler(sqs_calls):
    scale.communities("shinan", 2_500, teams_each=0)
    result = stats.fan_out(day="2026-11-30")
    assert result == {"day": "2026-11-30", "queued": 2_500}
    assert sqs_calls.count("SendMessageBatch") == 1
    for shard in drain(queues.FANOUT):
        queues.send_shard(shard)
    queued = drain("stats")
    assert len({m["account_id"] for m in queued}) == 2_500 and {m["day"] for m in queued} == {"2026-11-30"}
    assert date.fromisoformat(queued[0]["day"])
