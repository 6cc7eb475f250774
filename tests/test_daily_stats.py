"""`daily-stats`: schedule -> one SQS message per account -> worker -> figures from WeChat's datacube."""
from __future__ import annotations

import json
from datetime import date, timedelta

from chalice.test import Client

from app import app
from chalicelib import queues
from chalicelib.domain.statistics import days_to_collect, figures_for_day, figures_for_days, post_figures, spans
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
    assert item.followers > 0 and item.article_reads > 0 and item.headline_reads > 0
    # an empty table: the week before is back-filled too — 7 days of follows in one call each
    # (getusersummary, getusercumulate), 3 getuserread calls (3 days each), 7 getarticletotal (1 day each)
    assert len(stats_calls(wechat)) == 66 * (1 + 1 + 3 + 7)
    assert AccountDailyStats.get("xianggang-huayuan", "2026-11-20").followers > 0
    paths = {c["path"] for c in stats_calls(wechat)}
    assert "/datacube/getarticlesummary" not in paths and "/datacube/getuserread" in paths
    token_calls = [c for c in wechat.calls if c["path"] == "/cgi-bin/stable_token"]
    assert len(token_calls) == 66  # one token per account, shared by all its datacube calls
    assert all(c["body"]["secret"] == "***" for c in token_calls)  # the emulator's log never shows it

    wechat.calls.clear()  # the emulator keeps the last 1,000 calls
    again = run("daily-stats", {"day": "2026-11-26"})  # a re-run (or an SQS redelivery) changes nothing
    assert again["queues"][0]["handled"] == 66
    assert AccountDailyStats.get("xianggang-huayuan", "2026-11-26").followers == item.followers
    assert len(list(AccountDailyStats.query("xianggang-huayuan"))) == 7  # one item per day, never two
    # nothing to back-fill now: the day itself (4 calls) and the send of six days before, refreshed (1)
    assert len(stats_calls(wechat)) == 66 * 5
    assert AccessToken.get("xianggang-huayuan").token  # the tokens were reused, not fetched again
    assert not [c for c in wechat.calls if c["path"] == "/cgi-bin/stable_token"]


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
    def __init__(self):
        self.calls = []

    def _days(self, begin, end):
        return [(begin + timedelta(days=n)).isoformat() for n in range((end - begin).days + 1)]

    def user_summary(self, begin, end):
        self.calls.append(("summary", begin, end))
        return [row for d in self._days(begin, end) for row in (
            {"ref_date": d, "user_source": 0, "new_user": 3, "cancel_user": 1},
            {"ref_date": d, "user_source": 30, "new_user": 2, "cancel_user": 0})]

    def user_cumulate(self, begin, end):
        self.calls.append(("cumulate", begin, end))
        return [{"ref_date": d, "cumulate_user": 1200} for d in self._days(begin, end)]

    def user_read(self, begin, end):
        self.calls.append(("read", begin, end))
        return [row for d in self._days(begin, end) for row in (
            {"ref_date": d, "user_source": 0, "int_page_read_count": 40, "int_page_read_user": 30, "share_count": 2},
            {"ref_date": d, "user_source": 2, "int_page_read_count": 10, "int_page_read_user": 9, "share_count": 0},
            {"ref_date": d, "user_source": 99999999, "int_page_read_count": 50, "int_page_read_user": 39,
             "share_count": 2})]

    def article_total(self, day):
        self.calls.append(("total", day, day))
        return [{"msgid": "100_1", "details": [{"stat_date": "2026-11-02", "int_page_read_count": 90},
                                               {"stat_date": "2026-11-01", "int_page_read_count": 60}]},
                {"msgid": "100_2", "details": [{"stat_date": "2026-11-02", "int_page_read_count": 20,
                                                "share_count": 3}]}]


def test_figures_sum_wechats_rows():
    figures = figures_for_day(FakeCube(), date(2026, 11, 1))
    assert (figures.new_followers, figures.lost_followers, figures.followers) == (5, 1, 1200)
    # getuserread's total row (99999999), not the sum with the per-source rows
    assert (figures.article_reads, figures.article_readers, figures.article_shares) == (50, 39, 2)


def test_a_days_send_is_its_articles_latest_cumulative_figures_and_the_first_is_the_headline():
    posts = post_figures(FakeCube().article_total(date(2026, 11, 1)))
    assert (posts.articles, posts.post_reads, posts.headline_reads, posts.post_shares) == (2, 110, 90, 3)


def test_missing_days_are_collected_in_calls_that_respect_each_apis_range():
    target = date(2026, 11, 26)
    present = ["2026-11-20", "2026-11-22", "2026-11-23", "2026-11-24"]
    days = days_to_collect(target, present)
    assert [d.isoformat() for d in days] == ["2026-11-21", "2026-11-25", "2026-11-26"]
    cube = FakeCube()
    figures = figures_for_days(cube, days)
    assert sorted(figures) == days
    ranges = {(kind, b.isoformat(), e.isoformat()) for kind, b, e in cube.calls}
    assert ranges == {("summary", "2026-11-21", "2026-11-26"), ("cumulate", "2026-11-21", "2026-11-26"),
                      ("read", "2026-11-21", "2026-11-21"), ("read", "2026-11-25", "2026-11-26")}
    assert spans([date(2026, 11, d) for d in range(1, 8)], 3) == [
        (date(2026, 11, 1), date(2026, 11, 3)), (date(2026, 11, 4), date(2026, 11, 6)),
        (date(2026, 11, 7), date(2026, 11, 7))]


def test_a_day_that_failed_is_back_filled_by_the_next_run(seed, wechat):
    run("daily-stats", {"day": "2026-11-24"})
    # the run for the 25th failed for every account (say WeChat was down): nothing was stored for it
    run("daily-stats", {"day": "2026-11-26"})
    assert AccountDailyStats.get("jiangsu-lu", "2026-11-25").followers > 0
    read_calls = [c for c in stats_calls(wechat) if c["path"] == "/datacube/getuserread"
                  and c["body"].get("end_date") == "2026-11-26"]
    assert read_calls and all(c["body"]["begin_date"] == "2026-11-25" for c in read_calls)
