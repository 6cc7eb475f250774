"""Running a queue handler over an SQS batch with partial batch failure.

Each record is handled on its own; a record that fails (bad JSON, an exception) is reported in
`batchItemFailures` so SQS retries only it and, after the queue's `max_receives`, dead-letters it.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable, Iterable

from chalicelib import log

LOG = log.get_logger("jobs.sqs")


class PermanentFailure(ValueError):
    """A message that can never succeed (malformed): moved to the dead-letter queue at once, not retried."""


def handle_batch(queue: str, records: Iterable[Any], handle: Callable[[dict], None], job: str) -> dict:
    """`records` are Chalice SQS records (`.body`, `.to_dict()`); returns the partial-failure answer."""
    from chalicelib import queues

    failures = []
    for record in records:
        message_id = record.to_dict().get("messageId")
        with log.bind(job=job, message_id=message_id):
            try:
                body = json.loads(record.body)
                if not isinstance(body, dict):
                    raise PermanentFailure("message body is not a JSON object")
                handle(body)
            except (json.JSONDecodeError, PermanentFailure) as exc:
                log.event(LOG, "malformed message moved to the dead-letter queue", logging.ERROR, error=str(exc))
                try:
                    queues.dead_letter(queue, record.body, reason=str(exc))
                except Exception as dlq_exc:  # noqa: BLE001 - if even that fails, let SQS redrive it
                    log.event(LOG, "dead-lettering failed", logging.ERROR, error=str(dlq_exc))
                    failures.append({"itemIdentifier": message_id})
            except Exception as exc:  # noqa: BLE001 - any failure of one record must not fail its batch-mates
                log.event(LOG, "message failed, will be retried", logging.WARNING,
                          error=f"{type(exc).__name__}: {exc}")
                failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}
