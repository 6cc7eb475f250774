"""`daily-stats`: schedule -> one SQS message per account -> worker -> figures from WeChat's datacube."""
from __future__ import annotations

import json

from chalice.test import Client

from app import app
from chalicelib import queues
from chalicelib.domain.statistics import figures_for_day
from chalicelib.store.stats import AccountDailyStats
from chalicelib.store.tokens import AccessToken
from local.jobs import drain, lambda_sqs_event, run


def stats_calls(emulator):
    return [c for c in emulator.calls if c["path"].startswith("/datacube/")]


def test_the_nightly_job_collects_every_account_once(seed, wechat):
    result = run("daily-stats", {"day": "2026-11-26"})
    assert result["result"] == {"day": "2026-11-26", "queued": 66}
    assert result["queues"] == [{"queue": "stats", "handled": 66, "failed_deliveries": 0}]
    item = AccountDailyStats.get("xianggang-huayuan", "2026-11-26")
    assert item.followers > 0
    assert len(stats_calls(wechat)) == 66 * 3
    token_calls = [c for c in wechat.calls if c["path"] == "/cgi-bin/stable_token"]
    assert len(token_calls) == 66  # one token per account, shared by its three calls
    assert all(c["body"]["secret"] == "***" for c in token_calls)  # the emulator's log never shows it

    again = run("daily-stats", {"day": "2026-11-26"})  # a re-run (or an SQS redelivery) changes nothing
    assert again["queues"][0]["handled"] == 66
    assert AccountDailyStats.get("xianggang-huayuan", "2026-11-26").followers == item.followers
    assert AccessToken.get("xianggang-huayuan").token  # the tokens were reused, not fetched again
    assert len([c for c in wechat.calls if c["path"] == "/cgi-bin/stable_token"]) == 66


def test_without_a_day_the_job_takes_yesterday_in_shanghai(seed, wechat):
    with Client(app, stage_name="test") as client:
        event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event",
                                                detail={}, resources=[])
        answer = client.lambda_.invoke("daily_stats", event).payload
    assert answer["queued"] == 66 and len(answer["day"]) == 10


def test_a_malformed_message_goes_to_the_dead_letter_queue_and_spares_its_batch(seed, wechat):
    queues.send("stats", [{"account_id": "xianggang-huayuan", "day": "2026-11-26"}, {"account_id": "x"}])
    sqs = queues._sqs()
    sqs.send_message(QueueUrl=queues.queue_url("stats"), MessageBody="not json")
    with Client(app, stage_name="test") as client:
        outcome = drain(client, "stats", "stats_worker")
    assert outcome == {"queue": "stats", "handled": 3, "failed_deliveries": 0}
    assert AccountDailyStats.get("xianggang-huayuan", "2026-11-26")
    dlq = sqs.get_queue_url(QueueName=queues.dead_letter_name("stats"))["QueueUrl"]
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, MessageAttributeNames=["All"])["Messages"]
    assert sorted(m["Body"] for m in dead) == sorted(['{"account_id": "x"}', "not json"])
    assert all(m["MessageAttributes"]["reason"]["StringValue"] for m in dead)


def test_a_failing_account_is_retried_alone(seed, wechat):
    with Client(app, stage_name="test") as client:
        records = lambda_sqs_event([
            {"MessageId": "ok", "ReceiptHandle": "r1",
             "Body": json.dumps({"account_id": "xianggang-huayuan", "day": "2026-11-26"})},
            {"MessageId": "unknown-account", "ReceiptHandle": "r2",
             "Body": json.dumps({"account_id": "no-such-account", "day": "2026-11-26"})},
        ], "arn:aws-cn:sqs:cn-north-1:123456789012:q", "cn-north-1")
        answer = client.lambda_.invoke("stats_worker", records).payload
    assert answer == {"batchItemFailures": [{"itemIdentifier": "unknown-account"}]}


class FakeCube:
    def user_summary(self, day):
        return [{"user_source": 0, "new_user": 3, "cancel_user": 1}, {"user_source": 30, "new_user": 2,
                                                                      "cancel_user": 0}]

    def user_cumulate(self, day):
        return [{"cumulate_user": 1200}]

    def article_summary(self, day):
        return [{"int_page_read_count": 40, "int_page_read_user": 30, "share_count": 2},
                {"int_page_read_count": 10, "int_page_read_user": 9, "share_count": 0}]


def test_figures_sum_wechats_rows():
    figures = figures_for_day(FakeCube(), None)
    assert (figures.new_followers, figures.lost_followers, figures.followers) == (5, 1, 1200)
    assert (figures.article_reads, figures.article_readers, figures.article_shares) == (50, 39, 2)
