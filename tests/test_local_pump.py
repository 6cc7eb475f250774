"""The laptop's queue pump follows Lambda's SQS event source mapping: batch size, partial batch failure,
visibility timeout, redrive to the dead-letter queue; SQS errors do not stop it, nor `make job`'s drain."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from botocore.exceptions import EndpointConnectionError

from chalicelib import queues
from local import jobs, pump


class FakeLambda:
    """Records each invocation's event and answers as the given function says."""

    def __init__(self, answer):
        self.answer = answer
        self.events: list[dict] = []

    def invoke(self, function, event):
        self.events.append(event)
        return SimpleNamespace(payload=self.answer(event))


def client_answering(answer):
    return SimpleNamespace(lambda_=FakeLambda(answer))


@pytest.fixture
def work_queue(aws):
    """A queue with a dead-letter queue after two receives, and a visibility timeout the test controls."""
    sqs = queues._sqs()
    dlq = sqs.create_queue(QueueName="pump-test-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName="pump-test", Attributes={
        "VisibilityTimeout": "0",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    tap = pump.QueueTap("pump-test", "test_worker", url=url, arn=arn, batch_size=3)
    return SimpleNamespace(sqs=sqs, url=url, dlq=dlq, tap=tap)


def send(q, *bodies):
    for body in bodies:
        q.sqs.send_message(QueueUrl=q.url, MessageBody=json.dumps(body))


def count(sqs, url) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                    "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(v) for v in attrs["Attributes"].values())


def test_batches_are_at_most_the_queues_batch_size_and_in_lambdas_event_shape(work_queue):
    send(work_queue, *({"n": i} for i in range(7)))
    client = client_answering(lambda event: {"batchItemFailures": []})
    sizes = []
    while (outcome := pump.poll(client, work_queue.sqs, work_queue.tap)).received:
        sizes.append(outcome.received)
    assert max(sizes) <= 3 and sum(sizes) == 7
    record = client.lambda_.events[0]["Records"][0]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == work_queue.tap.arn
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert count(work_queue.sqs, work_queue.url) == 0  # every handled message was deleted


def test_only_the_reported_failures_stay_and_sqs_dead_letters_them_after_max_receives(work_queue):
    send(work_queue, {"ok": True}, {"ok": False})

    def handler(event):
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]
                                      if not json.loads(r["body"])["ok"]]}

    client = client_answering(handler)
    first = pump.poll(client, work_queue.sqs, work_queue.tap)
    assert (first.received, first.handled, len(first.failed)) == (2, 1, 1)
    again = pump.poll(client, work_queue.sqs, work_queue.tap)  # visibility 0: the failed one is back at once
    assert again.received == 1 and json.loads(again.failed[0]["Body"]) == {"ok": False}
    assert pump.poll(client, work_queue.sqs, work_queue.tap).received == 0  # third receive > maxReceiveCount
    dead = work_queue.sqs.receive_message(QueueUrl=work_queue.dlq).get("Messages", [])
    assert [json.loads(m["Body"]) for m in dead] == [{"ok": False}]


def test_a_failed_message_waits_out_its_visibility_timeout(work_queue):
    work_queue.sqs.set_queue_attributes(QueueUrl=work_queue.url, Attributes={"VisibilityTimeout": "60"})
    send(work_queue, {"ok": False})
    client = client_answering(lambda event: {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]})
    assert len(pump.poll(client, work_queue.sqs, work_queue.tap).failed) == 1
    assert pump.poll(client, work_queue.sqs, work_queue.tap).received == 0  # not before its timeout ends
    assert count(work_queue.sqs, work_queue.url) == 1  # still on the queue, nothing lost


@pytest.mark.parametrize("answer", [
    lambda event: (_ for _ in ()).throw(RuntimeError("handler crashed")),  # the handler raises
    lambda event: {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]},  # Lambda: whole batch fails
])
def test_a_raising_handler_or_an_unknown_identifier_fails_the_whole_batch(work_queue, answer):
    send(work_queue, {"n": 1}, {"n": 2})
    outcome = pump.poll(client_answering(answer), work_queue.sqs, work_queue.tap)
    assert (outcome.received, outcome.handled, len(outcome.failed)) == (2, 0, 2)
    assert count(work_queue.sqs, work_queue.url) == 2


class FlakySqs:
    """SQS that refuses the first `failures` receives, then passes through."""

    def __init__(self, sqs, failures: int):
        self._sqs, self.failures = sqs, failures

    def receive_message(self, **kw):
        if self.failures:
            self.failures -= 1
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
        return self._sqs.receive_message(**kw)

    def __getattr__(self, name):
        return getattr(self._sqs, name)


def test_the_pump_survives_sqs_errors_and_keeps_going(work_queue, monkeypatch):
    monkeypatch.setattr(pump, "ERROR_PAUSE_S", (0,))
    send(work_queue, {"n": 1})
    the_pump = pump.Pump(client_answering(lambda event: {"batchItemFailures": []}),
                         FlakySqs(work_queue.sqs, failures=2), handlers={})
    the_pump.taps = [work_queue.tap]
    the_pump.totals = {"pump-test": {"handled": 0, "failed_deliveries": 0}}
    rounds = [the_pump.round() for _ in range(3)]
    assert rounds == [0, 0, 1] and the_pump.totals["pump-test"]["handled"] == 1


def test_make_jobs_drain_survives_sqs_errors_and_finishes(aws, monkeypatch):
    sqs = queues._sqs()
    queues.send("stats", [{"account_id": "a"}, {"account_id": "b"}])
    flaky = FlakySqs(sqs, failures=2)
    monkeypatch.setattr(queues, "_sqs", lambda: flaky)
    client = client_answering(lambda event: {"batchItemFailures": []})
    result = jobs.drain(client, "stats", "stats_worker", pause_s=0)
    assert result["handled"] == 2 and result["sqs_errors"] == 2
    assert "EndpointConnectionError" in result["last_error"]


def test_the_pump_feeds_every_queue_to_the_apps_handler():
    from app import app
    from chalicelib.queues import QUEUES

    the_pump = pump.Pump(client=None, sqs=None)
    assert {t.queue for t in the_pump.taps} == set(QUEUES)  # stats, outbox and inbound (parked callbacks)
    assert all(t.function in app.handler_map for t in the_pump.taps)
