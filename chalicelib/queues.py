"""SQS queues for fan-out: one registry of queues, their settings, and sending in batches.

Each queue has a dead-letter queue; handlers report partial batch failures, so one bad message is
retried (and finally dead-lettered) without its batch-mates.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any, Iterable

from chalicelib import log
from chalicelib.config import APP_NAME, settings
from chalicelib.domain.errors import PermanentFailure
from chalicelib.domain.records import record
from chalicelib.store.base import shared_session

LOG = log.get_logger("queues")


@record
class QueueSpec:
    visibility_timeout_s: int  # at least six times the handler's timeout, as AWS advises
    max_receives: int  # deliveries before the message goes to the dead-letter queue
    batch_size: int
    backoff_s: int = 0  # first retry delay, doubled each time (0: SQS's visibility timeout)


QUEUES = {
    "stats": QueueSpec(visibility_timeout_s=180, max_receives=5, batch_size=5),
    "outbox": QueueSpec(visibility_timeout_s=180, max_receives=6, batch_size=10, backoff_s=30),
    # Callbacks whose DynamoDB writes failed, parked so that no resident's message is lost.
    "inbound": QueueSpec(visibility_timeout_s=180, max_receives=10, batch_size=5, backoff_s=20),
    # Daily posts: visibility beyond the send lease (5 min), so a redelivery finds a stale claim to take over.
    "posts": QueueSpec(visibility_timeout_s=360, max_receives=5, batch_size=5, backoff_s=60),
    # Shards of a large fan-out (`fan_out`): one shard an invocation, so none sends more than ~100 batches.
    "fanout": QueueSpec(visibility_timeout_s=360, max_receives=5, batch_size=1, backoff_s=30),
}
FANOUT = "fanout"
SHARD_MESSAGES = 1000  # a shard's worker makes at most 100 SendMessageBatch calls
MAX_MESSAGE_BYTES = 262_144  # SQS: one message, and the sum of a batch's messages
SHARD_BYTES = 240_000  # a shard's JSON stays below one message's limit


def queue_name(queue: str) -> str:
    return f"{APP_NAME}-{settings().stage}-{queue}"


def dead_letter_name(queue: str) -> str:
    return queue_name(queue) + "-dlq"


def url_env_var(queue: str) -> str:
    return f"QUEUE_URL_{queue.upper()}"


@lru_cache(maxsize=1)
def _sqs():
    return shared_session().create_client("sqs", region_name=settings().region)


def connect() -> None:
    """Make the SQS client now (Lambda's init phase, `bootstrap.warm_up`); sends nothing."""
    _sqs()


@lru_cache(maxsize=32)
def queue_url(queue: str) -> str:
    """From the template's environment variable when deployed, else asked once of SQS (laptop)."""
    return os.environ.get(url_env_var(queue)) or _sqs().get_queue_url(QueueName=queue_name(queue))["QueueUrl"]


class SendFailed(RuntimeError):
    """SQS refused some messages even after one retry."""


def send(queue: str, bodies: Iterable[dict[str, Any]]) -> int:
    """Send JSON messages in batches of ten (fewer when their bytes would pass SQS's 256 KiB a batch);
    entries SQS refuses are retried once, then raise."""
    items = [json.dumps(b, ensure_ascii=False, sort_keys=True) for b in bodies]
    for batch in _batches(items):
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(batch)]
        for _attempt in range(2):
            failed = _sqs().send_message_batch(QueueUrl=queue_url(queue), Entries=entries).get("Failed", [])
            if not failed:
                break
            failed_ids = {f["Id"] for f in failed}
            entries = [e for e in entries if e["Id"] in failed_ids]
        else:
            raise SendFailed(f"queue {queue}: {len(entries)} message(s) refused: {failed}")
    return len(items)


def _batches(items: list[str]) -> Iterable[list[str]]:
    batch: list[str] = []
    size = 0
    for item in items:
        length = len(item.encode("utf-8"))
        if batch and (len(batch) == 10 or size + length > MAX_MESSAGE_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += length
    if batch:
        yield batch


def fan_out(queue: str, bodies: Iterable[dict[str, Any]], shard_messages: int = SHARD_MESSAGES) -> int:
    """Send many messages so that no invocation makes more than ~100 SendMessageBatch calls (扇出分片).

    Up to one shard's worth go straight to `queue`. Beyond that the caller sends shards — up to
    `shard_messages` messages and SHARD_BYTES each — to the `fanout` queue, whose worker (`send_shard`,
    one shard an invocation) sends a shard's messages on: 10,000 accounts are 10 shards, one or a few
    calls for the scheduler and 100 for each shard. A shard sent twice sends its messages twice, which
    every consumer of a fan-out tolerates (daily-stats overwrites a day, daily-post claims it). Returns
    the number of messages."""
    items = [dict(b) for b in bodies]
    if len(items) <= shard_messages:
        return send(queue, items)
    shards: list[list[dict[str, Any]]] = [[]]
    size = 0
    for item in items:
        length = len(json.dumps(item, ensure_ascii=False).encode("utf-8")) + 2
        if shards[-1] and (len(shards[-1]) >= shard_messages or size + length > SHARD_BYTES):
            shards.append([])
            size = 0
        shards[-1].append(item)
        size += length
    send(FANOUT, ({"queue": queue, "messages": shard} for shard in shards))
    log.event(LOG, "fan-out sharded", queue=queue, messages=len(items), shards=len(shards))
    return len(items)


def send_shard(message: dict[str, Any]) -> int:
    """The `fanout` queue's worker: send one shard's messages to their queue."""
    queue, messages = message.get("queue"), message.get("messages")
    if queue not in QUEUES or queue == FANOUT or not isinstance(messages, list) or \
            not all(isinstance(m, dict) for m in messages):
        raise PermanentFailure("expected {queue, messages: [objects]} for a known queue")
    return send(queue, messages)


def publish_outbox(outbox_ids: list[str]) -> None:
    """Hand committed outbox items to the `outbox` queue. If SQS fails they stay `pending` in the table and
    the `outbox-redrive` job hands them over later: logged, never raised (the commit already happened)."""
    try:
        send("outbox", ({"outbox_id": i} for i in outbox_ids))
    except Exception as exc:  # noqa: BLE001 - the items are stored; the redrive job sends them later
        LOG.error("outbox enqueue failed; the redrive job will pick the items up (%s: %s, %d items)",
                  type(exc).__name__, exc, len(outbox_ids))


def dead_letter(queue: str, body: str, reason: str) -> None:
    """Put a message that can never succeed straight on the queue's dead-letter queue, with the reason."""
    dlq_url = os.environ.get(url_env_var(queue) + "_DLQ") or \
        _sqs().get_queue_url(QueueName=dead_letter_name(queue))["QueueUrl"]
    _sqs().send_message(QueueUrl=dlq_url, MessageBody=body, MessageAttributes={
        "reason": {"DataType": "String", "StringValue": reason[:1000]}})


def retry_later(queue: str, receipt_handle: str, receive_count: int) -> int:
    """Back off exponentially before SQS delivers the message again; returns the delay in seconds."""
    spec = QUEUES[queue]
    if not spec.backoff_s:
        return 0
    delay = min(900, spec.backoff_s * 2 ** max(0, receive_count - 1))
    _sqs().change_message_visibility(QueueUrl=queue_url(queue), ReceiptHandle=receipt_handle,
                                     VisibilityTimeout=delay)
    return delay


def create_queues() -> list[str]:
    """Create every queue and its dead-letter queue (laptop stack and tests; the template does it in AWS)."""
    made = []
    for queue, spec in QUEUES.items():
        dlq_url = _sqs().create_queue(QueueName=dead_letter_name(queue))["QueueUrl"]
        dlq_arn = _sqs().get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        _sqs().create_queue(QueueName=queue_name(queue), Attributes={
            "VisibilityTimeout": str(spec.visibility_timeout_s),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": spec.max_receives}),
        })
        made.append(queue_name(queue))
    return made
