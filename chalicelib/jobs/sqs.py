"""Running a queue handler over an SQS batch with partial batch failure.

Each record is handled on its own. A record that fails is reported in `batchItemFailures`, so SQS
retries only it (after an exponential back-off where the queue asks for one) and, after the queue's
`max_receives`, moves it to the dead-letter queue; the handler's `give_up` hook hears of that last
failure. A malformed record can never succeed: it goes to the dead-letter queue at once.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable, Iterable

from chalicelib import log, queues
from chalicelib.domain.errors import PermanentFailure

LOG = log.get_logger("jobs.sqs")

__all__ = ["PermanentFailure", "handle_batch"]


def handle_batch(queue: str, records: Iterable[Any], handle: Callable[[dict], None], job: str,
                 give_up: Callable[[dict, str], None] | None = None) -> dict:
    """`records` are Chalice SQS records (`.body`, `.to_dict()`); returns the partial-failure answer."""

    failures = []
    for record in records:
        raw = record.to_dict()
        message_id = raw.get("messageId")
        receives = int(raw.get("attributes", {}).get("ApproximateReceiveCount", 1))
        with log.bind(job=job, message_id=message_id):
            body: Any = None
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
            except Exception as exc:  # noqa: BLE001 - one record's failure must not fail its batch-mates
                error = f"{type(exc).__name__}: {exc}"
                failures.append({"itemIdentifier": message_id})
                _after_failure(queue, raw, body if isinstance(body, dict) else {}, error, receives, give_up)
    return {"batchItemFailures": failures}


def _after_failure(queue: str, raw: dict, body: dict, error: str, receives: int,
                   give_up: Callable[[dict, str], None] | None) -> None:
    """Back off before the next attempt, or, after the last one, tell the handler it is given up."""

    try:
        if receives >= queues.QUEUES[queue].max_receives:
            log.event(LOG, "last attempt failed; SQS moves it to the dead-letter queue", logging.ERROR,
                      error=error, receives=receives)
            if give_up is not None:
                give_up(body, error)
            return
        delay = queues.retry_later(queue, raw.get("receiptHandle", ""), receives)
        log.event(LOG, "message failed, will be retried", logging.WARNING, error=error, receives=receives,
                  retry_in_s=delay)
    except Exception as exc:  # noqa: BLE001 - the record is already reported failed; SQS retries it anyway
        log.event(LOG, "could not schedule the retry", logging.WARNING, error=f"{type(exc).__name__}: {exc}")
