"""The laptop's queue pump (队列泵): what Lambda's SQS event source mapping does in AWS.

`chalice local` serves HTTP only; in AWS, each queue's messages reach its handler through an event source
mapping. This process plays that part for `make run`, with the platform's own handler functions
(app.py's `@app.on_sqs_message`, invoked through Chalice's test client in Lambda's SQS event shape):

- it receives up to the queue's batch size (`chalicelib.queues.QUEUES`) at a time, with the queue's
  visibility timeout, and invokes the handler with the batch;
- partial batch failure: the records the handler names in `batchItemFailures` are left on the queue (they
  come back when their visibility timeout ends, or after the handler's own back-off); the others are
  deleted. A handler that raises, or names a record that is not in the batch, fails the whole batch;
- SQS itself counts the receives and moves a message to the dead-letter queue after `maxReceiveCount`;
- an SQS error (the endpoint restarting, say) is logged and retried after a pause; the pump keeps going.

It polls without long polling (the laptop's endpoint serves one request at a time), every POLL_S
seconds when the queues are empty, so a notice reaches the WeChat emulator within a second or two.

    python -m local.pump            # started by `make run`; logs to .local/pump.log
"""
from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field

from local.quiet import quiet_laptop_logs

LOG = logging.getLogger("local.pump")
POLL_S = 0.5
ERROR_PAUSE_S = (1, 2, 5, 10)  # after consecutive SQS errors


def lambda_sqs_event(messages: list[dict], queue_arn: str, region: str) -> dict:
    """Lambda's SQS event for a received batch."""
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m.get("MD5OfBody", ""),
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": region,
    } for m in messages]}


@dataclass
class QueueTap:
    """One queue and its handler, as an event source mapping sees them."""
    queue: str
    function: str
    url: str = ""
    arn: str = ""
    batch_size: int = 10

    def resolve(self, sqs) -> None:
        from chalicelib import queues

        if not self.url:
            self.url = queues.queue_url(self.queue)
            self.arn = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"]
            self.batch_size = queues.QUEUES[self.queue].batch_size


@dataclass
class Outcome:
    received: int = 0
    handled: int = 0
    invoke_s: float = 0.0  # how long the handler ran (Lambda's billed duration, for make simulate's report)
    failed: list[dict] = field(default_factory=list)  # the received messages the handler did not finish


def invoke_batch(client, tap: QueueTap, messages: list[dict]) -> tuple[list[dict], list[dict]]:
    """Invoke the handler with one batch: (done, failed) messages, per Lambda's partial-batch rules."""
    event = lambda_sqs_event(messages, tap.arn, os.environ.get("AWS_REGION", "cn-north-1"))
    try:
        payload = client.lambda_.invoke(tap.function, event).payload or {}
    except Exception as exc:  # noqa: BLE001 - a handler that raises fails its whole batch, as in Lambda
        LOG.warning("%s: the handler raised %s: %s; the whole batch is retried", tap.queue, type(exc).__name__, exc)
        return [], messages
    failures = payload.get("batchItemFailures", []) if isinstance(payload, dict) else []
    ids = {m["MessageId"] for m in messages}
    named = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
    if any(i not in ids for i in named):  # Lambda: an unknown or empty identifier fails the batch
        return [], messages
    return [m for m in messages if m["MessageId"] not in named], [m for m in messages if m["MessageId"] in named]


def poll(client, sqs, tap: QueueTap, retry_now: bool = False) -> Outcome:
    """One receive, one invocation, the deletions. SQS errors are raised to the caller.

    retry_now (for `make job`, which must finish what it started) makes failed messages visible again at
    once instead of after their back-off; SQS still dead-letters them after maxReceiveCount."""
    tap.resolve(sqs)
    messages = sqs.receive_message(QueueUrl=tap.url, MaxNumberOfMessages=min(10, tap.batch_size),
                                   AttributeNames=["All"], WaitTimeSeconds=0).get("Messages", [])
    outcome = Outcome(received=len(messages))
    if not messages:
        return outcome
    started = time.perf_counter()
    done, failed = invoke_batch(client, tap, messages)
    outcome.invoke_s = time.perf_counter() - started
    if done:
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
        refused = sqs.delete_message_batch(QueueUrl=tap.url, Entries=entries).get("Failed", [])
        if refused:
            LOG.warning("%s: %d deletion(s) refused: %s; those messages will be delivered again",
                        tap.queue, len(refused), refused)
    outcome.handled = len(done)
    outcome.failed = failed
    if retry_now:
        for m in failed:
            sqs.change_message_visibility(QueueUrl=tap.url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    return outcome


class Pump:
    """Feeds every queue to its handler until stopped."""

    def __init__(self, client, sqs, handlers: dict[str, str] | None = None, poll_s: float = POLL_S):
        from chalicelib.jobs import QUEUE_HANDLERS

        self.client = client
        self.sqs = sqs
        self.taps = [QueueTap(q, f) for q, f in (handlers or QUEUE_HANDLERS).items()]
        self.poll_s = poll_s
        self.errors = 0
        self.totals = {t.queue: {"handled": 0, "failed_deliveries": 0} for t in self.taps}

    def round(self) -> int:
        """Poll each queue once (a queue with a full batch again at once); messages received."""
        received = 0
        for tap in self.taps:
            for _ in range(100):  # a busy queue may not starve the others for long
                try:
                    outcome = poll(self.client, self.sqs, tap)
                except Exception as exc:  # noqa: BLE001 - SQS unreachable or refusing: pause, then go on
                    self.errors += 1
                    pause = ERROR_PAUSE_S[min(self.errors, len(ERROR_PAUSE_S)) - 1]
                    LOG.warning("%s: SQS error %s: %s; retrying in %s s", tap.queue, type(exc).__name__, exc, pause)
                    time.sleep(pause)
                    break
                self.errors = 0
                received += outcome.received
                self.totals[tap.queue]["handled"] += outcome.handled
                self.totals[tap.queue]["failed_deliveries"] += len(outcome.failed)
                if outcome.received:
                    LOG.info("%s: %d received, %d done, %d failed (left for SQS to retry or dead-letter) in %.0f ms",
                             tap.queue, outcome.received, outcome.handled, len(outcome.failed),
                             outcome.invoke_s * 1000)
                if outcome.received < tap.batch_size:
                    break
        return received

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            if not self.round():
                stop.wait(self.poll_s)


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(name)s %(message)s")
    quiet_laptop_logs()
    from chalice.test import Client

    from app import app
    from chalicelib import queues
    from local.stack import ROOT

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with Client(app, stage_name=os.environ.get("STAGE", "local"), project_dir=str(ROOT)) as client:
        pump = Pump(client, queues._sqs())
        LOG.info("pump: feeding %s", json.dumps({t.queue: t.function for t in pump.taps}))
        pump.run(stop)
    LOG.info("pump: stopped; %s", json.dumps(pump.totals))
    return 0


if __name__ == "__main__":
    sys.exit(main())
