"""`make job NAME=<job> [ARGS=…]`: run a scheduled job against the running laptop stack.

The running stack is found through `.local/stack.env` (written by `make run`), whatever ports it uses.
This invokes the job's Lambda function through Chalice's test client (the same handler code as in AWS),
then drains every queue the job fills by feeding the received messages to the queue's handler in Lambda's
SQS event shape (local/pump.py, which `make run` also runs continuously: messages the pump holds are
waited for, and the two share the work). Messages a handler reports as
failed are made visible again at once, so SQS's redrive (maxReceiveCount) moves them to the dead-letter
queue just as in AWS. An SQS error is counted and retried after a pause; the drain goes on. When the
command returns, the job's effects are done.

`NAME` may also be a queue (stats, outbox, inbound): its messages are drained through its handler, e.g.
`make job NAME=inbound` replays callbacks parked when DynamoDB failed.

    python -m local.jobs daily-stats --day 2026-11-26
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from local.pump import QueueTap, lambda_sqs_event, poll  # noqa: F401 - lambda_sqs_event is used by tests
from local.quiet import quiet_laptop_logs
from local.stack import ROOT, StackNotRunning, attach_env

MAX_CONSECUTIVE_ERRORS = 5


def drain(client, queue: str, function: str, max_rounds: int = 1000, pause_s: float = 1.0,
          settle_s: float = 20.0, progress: bool = False) -> dict:
    """Feed the queue's messages to its handler until the queue is empty; count handled and failed.

    SQS errors do not stop it: each is counted, and the drain tries again after a pause; only after
    MAX_CONSECUTIVE_ERRORS in a row does it give up (the messages stay on the queue for the next run).
    Messages another consumer holds (the pump of `make run`) are waited for, up to settle_s seconds,
    so that the queue's work is done when it returns; those still held then are reported as in flight."""
    from chalicelib import queues

    sqs = queues._sqs()
    tap = QueueTap(queue, function)
    handled = failed = errors = consecutive = 0
    in_flight = 0
    last_error = None
    settle_until = None
    for _ in range(max_rounds):
        try:
            outcome = poll(client, sqs, tap, retry_now=True)
            if not outcome.received:
                counts = sqs.get_queue_attributes(QueueUrl=tap.url, AttributeNames=[
                    "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
                in_flight = int(counts.get("ApproximateNumberOfMessagesNotVisible", 0))
                visible = int(counts.get("ApproximateNumberOfMessages", 0))
        except Exception as exc:  # noqa: BLE001 - SQS refused or unreachable: count it and keep going
            errors += 1
            consecutive += 1
            last_error = f"{type(exc).__name__}: {exc}"
            print(f"job: {queue}: SQS error ({last_error}); trying again", file=sys.stderr)
            if consecutive >= MAX_CONSECUTIVE_ERRORS:
                break
            time.sleep(pause_s)
            continue
        consecutive = 0
        handled += outcome.handled
        failed += len(outcome.failed)
        if progress and outcome.received:
            print(f"job: {queue}: {handled} handled, {failed} failed so far", file=sys.stderr, flush=True)
        if outcome.received or visible:
            continue
        if not in_flight:
            break
        settle_until = settle_until or time.monotonic() + settle_s
        if time.monotonic() >= settle_until:
            break
        time.sleep(0.3)
    result = {"queue": queue, "handled": handled, "failed_deliveries": failed}
    if in_flight:
        result["in_flight_elsewhere"] = in_flight  # held by another consumer (the pump), or waiting out a back-off
    if errors:
        result.update(sqs_errors=errors, last_error=last_error)
    return result


def run(name: str, detail: dict, progress: bool = False) -> dict:
    from chalice.test import Client

    from app import app
    from chalicelib.jobs import JOBS, QUEUE_HANDLERS
    from chalicelib.queues import FANOUT

    with Client(app, stage_name=os.environ.get("STAGE", "local"), project_dir=str(ROOT)) as client:
        if name in QUEUE_HANDLERS:
            return {"queue": name, "queues": [drain(client, name, QUEUE_HANDLERS[name], progress=progress)]}
        job = JOBS[name]
        event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event",
                                                detail=detail, resources=[f"make job {name}"])
        result = {"job": name, "result": client.lambda_.invoke(job.function, event).payload}
        drained = [drain(client, q, QUEUE_HANDLERS[q], progress=progress) for q in job.fills]
        # the shards' queue is named only when the fan-out was large enough to be sharded (past 1,000)
        result["queues"] = [d for d in drained if d["queue"] != FANOUT or d["handled"] or d["failed_deliveries"]]
    return result


def main(argv: list[str]) -> int:
    from chalicelib.jobs import JOBS, QUEUE_HANDLERS

    parser = argparse.ArgumentParser(prog="make job NAME=<job> ARGS=…", description=__doc__.split("\n")[0])
    parser.add_argument("name", nargs="?", help="one of: " + ", ".join([*JOBS, *QUEUE_HANDLERS]))
    parser.add_argument("--day", help="the Shanghai day to work on (YYYY-MM-DD), where the job takes one")
    parser.add_argument("--month", help="the month to work on (YYYY-MM), where the job takes one")
    parser.add_argument("--issue", action="store_true", help="monthly-bulletin: issue the draft as well")
    args = parser.parse_args(argv)
    if args.name not in JOBS and args.name not in QUEUE_HANDLERS:
        print(f"job: unknown job {args.name!r}; the jobs are: {', '.join(JOBS)}; the queues: "
              f"{', '.join(QUEUE_HANDLERS)}", file=sys.stderr)
        return 2
    detail = {k: v for k, v in {"day": args.day, "month": args.month, "issue": args.issue}.items() if v}
    try:
        result = run(args.name, detail, progress=True)
    except Exception as exc:  # noqa: BLE001 - one clear line, not a traceback, when the stack is unreachable
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(exc, (BotoCoreError, ClientError)):
            print(f"job: the laptop stack's AWS endpoint ({os.environ.get('AWS_ENDPOINT_URL')}) failed: {exc}",
                  file=sys.stderr)
            return 1
        raise
    print(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    return 0


def attach() -> int:
    """Join the running stack (its .local/stack.env), then run main()."""
    try:
        os.environ.update(attach_env())
    except StackNotRunning as exc:
        print(f"job: {exc}", file=sys.stderr)
        return 1
    quiet_laptop_logs()
    return main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(attach())
