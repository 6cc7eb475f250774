"""`make job NAME=<job> [ARGS=…]`: run a scheduled job against the running laptop stack.

`chalice local` runs no schedules and no queue handlers, so this invokes the job's Lambda function
through Chalice's test client (the same handler code as in AWS), then drains every queue the job
fills by feeding the received messages to the queue's handler in Lambda's SQS event shape. Messages a
handler reports as failed are made visible again at once, so SQS's redrive (maxReceiveCount) moves
them to the dead-letter queue just as in AWS. When the command returns, the job's effects are done.

    python -m local.jobs daily-stats --day 2026-11-26
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from local.stack import ROOT, stack_env


def lambda_sqs_event(messages: list[dict], queue_arn: str, region: str) -> dict:
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m.get("MD5OfBody", ""),
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": region,
    } for m in messages]}


def drain(client, queue: str, function: str, max_rounds: int = 1000) -> dict:
    """Feed the queue's messages to its handler until the queue is empty; count handled and failed."""
    from chalicelib import queues

    sqs = queues._sqs()
    url = queues.queue_url(queue)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    batch_size = queues.QUEUES[queue].batch_size
    handled = failed = 0
    for _ in range(max_rounds):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(10, batch_size),
                                       AttributeNames=["All"]).get("Messages", [])
        if not messages:
            break
        answer = client.lambda_.invoke(function, lambda_sqs_event(messages, arn, os.environ["AWS_REGION"]))
        payload = answer.payload or {}
        failed_ids = {f["itemIdentifier"] for f in payload.get("batchItemFailures", [])}
        for m in messages:
            if m["MessageId"] in failed_ids:
                failed += 1
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
            else:
                handled += 1
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return {"queue": queue, "handled": handled, "failed_deliveries": failed}


def run(name: str, detail: dict) -> dict:
    from chalice.test import Client

    from app import app
    from chalicelib.jobs import JOBS, QUEUE_HANDLERS

    job = JOBS[name]
    with Client(app, stage_name=os.environ.get("STAGE", "local"), project_dir=str(ROOT)) as client:
        event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event",
                                                detail=detail, resources=[f"make job {name}"])
        result = {"job": name, "result": client.lambda_.invoke(job.function, event).payload}
        result["queues"] = [drain(client, q, QUEUE_HANDLERS[q]) for q in job.fills]
    return result


def main(argv: list[str]) -> int:
    from chalicelib.jobs import JOBS

    parser = argparse.ArgumentParser(prog="make job NAME=<job> ARGS=…", description=__doc__.split("\n")[0])
    parser.add_argument("name", nargs="?", help="one of: " + ", ".join(JOBS))
    parser.add_argument("--day", help="the Shanghai day to work on (YYYY-MM-DD), where the job takes one")
    args = parser.parse_args(argv)
    if args.name not in JOBS:
        print(f"job: unknown job {args.name!r}; the jobs are: {', '.join(JOBS)}", file=sys.stderr)
        return 2
    detail = {k: v for k, v in {"day": args.day}.items() if v}
    print(json.dumps(run(args.name, detail), ensure_ascii=False, indent=1, default=str))
    return 0


if __name__ == "__main__":
    os.environ.update(stack_env())
    sys.exit(main(sys.argv[1:]))
