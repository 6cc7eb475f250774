"""SQS queues for fan-out: one registry of queues, their settings, and sending in batches.

Each queue has a dead-letter queue; handlers report partial batch failures, so one bad message is
retried (and finally dead-lettered) without its batch-mates.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any, Iterable

from botocore.session import get_session

from chalicelib import log
from chalicelib.config import APP_NAME, settings
from chalicelib.domain.records import record

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
}


def queue_name(queue: str) -> str:
    return f"{APP_NAME}-{settings().stage}-{queue}"


def dead_letter_name(queue: str) -> str:
    return queue_name(queue) + "-dlq"


def url_env_var(queue: str) -> str:
    return f"QUEUE_URL_{queue.upper()}"


@lru_cache(maxsize=1)
def _sqs():

    return get_session().create_client("sqs", region_name=settings().region)


@lru_cache(maxsize=32)
def queue_url(queue: str) -> str:
    """From the template's environment variable when deployed, else asked once of SQS (laptop)."""
    return os.environ.get(url_env_var(queue)) or _sqs().get_queue_url(QueueName=queue_name(queue))["QueueUrl"]


class SendFailed(RuntimeError):
    """SQS refused some messages even after one retry."""


def send(queue: str, bodies: Iterable[dict[str, Any]]) -> int:
    """Send JSON messages in batches of ten; entries SQS refuses are retried once, then raise."""
    items = [json.dumps(b, ensure_ascii=False, sort_keys=True) for b in bodies]
    for start in range(0, len(items), 10):
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(items[start:start + 10])]
        for _attempt in range(2):
            failed = _sqs().send_message_batch(QueueUrl=queue_url(queue), Entries=entries).get("Failed", [])
            if not failed:
                break
            failed_ids = {f["Id"] for f in failed}
            entries = [e for e in entries if e["Id"] in failed_ids]
        else:
            raise SendFailed(f"queue {queue}: {len(entries)} message(s) refused: {failed}")
    return len(items)


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
