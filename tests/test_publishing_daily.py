"""`daily-post` and `post-reminder` against the WeChat emulator: one send per account with an approved post,
run twice, two workers at once, a worker that dies after WeChat accepted, quota errors (45028, 45047), the
service account's fall-back to free publishing, WeChat's job reports, the day's outcome for the bulletin."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from datetime import datetime, time as dtime, timedelta
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap, clock, queues
from chalicelib.domain import dates, publishing as pub
from chalicelib.services import post_delivery
from chalicelib.store import posts as repo
from chalicelib.store.posts import PostDay, StaffNotice
from chalicelib.wechat.client import WeChatApiError
from local.jobs import run
from tests.wechat_driver import sign

IMG = "http://mmbiz.qpic.cn/mmbiz_png/demo/0"
SUBS = ("shanhaiguan-lu", "taipingjiao")  # plain-mode subscription accounts
SERVICE_ACCOUNT = "yangkou-lu"  # a plain-mode service account


def approved_post(account_id: str, day, cover: str = "cover", slot: str = pub.DEFAULT_SLOT) -> pub.Post:
    """A post of `account_id` approved (scheduled) for `day`, written as the service would."""
    from chalicelib.store.org import Community

    community = Community.get(account_id)
    now = clock.now()
    art = pub.ArticleDraft(title=f"{account_id} 今日发布", content=f'<p>正文</p><img src="{IMG}" alt="图">',
                           cover_media_id=cover)
    plan = pub.new_post(repo.new_post_id(day), account_id, account_id, community.subdistrict_id,
                        community.district_id, "今日发布", day, "sw", now, slot=slot, articles=(art,))
    plan = replace(plan, post=replace(plan.post, state="scheduled"))
    return repo.save_post(plan, now, None)


def sends(emulator, path="/cgi-bin/message/mass/sendall"):
    return [c for c in emulator.calls if c["path"] == path and c["response"].get("errcode", 0) == 0]


def covers(emulator, account_ids):
    """Real cover material in the emulator (draft/add checks thumb_media_id)."""
    from chalicelib.wechat.client import client_for

    return {a: client_for(a).publish_media.add_cover("c.png", b"\x89PNG" + b"0" * 100)["media_id"]
            for a in account_ids}


def today():
    return dates.local_date(clock.now())


def test_each_approved_post_is_sent_once_and_a_second_run_sends_nothing(seed, wechat, morning):
    ids = covers(wechat, SUBS)
    posts = [approved_post(a, today(), ids[a]) for a in SUBS]
    first = run("daily-post", {"day": today().isoformat()})
    assert first["result"]["queued"] == 2 and first["result"]["missed"] == first["result"]["accounts"] - 2
    assert first["queues"] == [{"queue": "posts", "handled": 2, "failed_deliveries": 0}]
    assert len(sends(wechat)) == 2
    assert all(c["body"]["clientmsgid"] == pub.clientmsgid(c_acc, today())
               for c, c_acc in zip(sorted(sends(wechat), key=lambda c: c["body"]["clientmsgid"]),
                                   sorted(SUBS, key=lambda a: pub.clientmsgid(a, today()))))
    for post in posts:
        day = PostDay.get(post.account_id, today().isoformat())
        assert day.outcome == "sent" and day.mode == "mass" and day.job_id and day.post_id == post.post_id
        assert repo.get_post(post.post_id).state == "sent"
    assert PostDay.get("xianggang-huayuan", today().isoformat()).outcome == "missed"

    again = run("daily-post", {"day": today().isoformat()})  # a second run: nothing left to send
    assert again["result"]["queued"] == 0 and again["result"]["missed"] == 0
    assert len(sends(wechat)) == 2

    # a redelivered message (SQS at-least-once) changes nothing either
    for post in posts:
        message = {"account_id": post.account_id, "day": today().isoformat(), "post_id": post.post_id}
        assert post_delivery.send_post(message).startswith("skipped")
    assert len(sends(wechat)) == 2


def test_a_late_approval_replaces_missed(seed, wechat, morning):
    run("daily-post", {"day": today().isoformat()})
    assert PostDay.get(SUBS[0], today().isoformat()).outcome == "missed"
    ids = covers(wechat, SUBS[:1])
    approved_post(SUBS[0], today(), ids[SUBS[0]])
    run("daily-post", {"day": today().isoformat()})
    assert PostDay.get(SUBS[0], today().isoformat()).outcome == "sent" and len(sends(wechat)) == 1


def test_the_slot_decides_when_a_post_goes(seed, wechat, monkeypatch):
    day = dates.local_date(clock.now())
    clock.set_clock(datetime.combine(day, dtime(7, 30), tzinfo=dates.SHANGHAI))
    ids = covers(wechat, SUBS[:1])
    approved_post(SUBS[0], day, ids[SUBS[0]])
    assert post_delivery.enqueue_day(clock.now())["queued"] == 0  # 07:30: the 08:00 slot has not come
    clock.set_clock(clock.now() + timedelta(hours=1))
    assert post_delivery.enqueue_day(clock.now())["queued"] == 1


def test_each_account_posts_and_is_marked_missed_at_its_own_time(seed, wechat):
    """每日发布时间 per account: a director sets 18:00; new posts take it; the half-hourly job leaves the
    account alone until then (not sent, not missed), while an 08:00 account without a post is missed at 08:00."""
    from chalicelib.auth.principal import Principal
    from chalicelib.config import settings
    from chalicelib.domain.errors import BadRequest, Forbidden, NotFound
    from chalicelib.services import publishing

    day = dates.local_date(clock.now())
    evening, other = SUBS
    director = Principal(username=f"director.{evening}", display_name="主任", role="director",
                         district_id=settings().district_id, community_id=evening)
    with pytest.raises(BadRequest):
        publishing.set_post_time(director, evening, {"time": "18:15"})  # on the hour or the half hour only
    with pytest.raises((Forbidden, NotFound)):
        publishing.set_post_time(director, other, {"time": "18:00"})  # another community's account
    assert publishing.set_post_time(director, evening, {"time": "18:00"})["post_time"] == "18:00"
    assert repo.post_time(evening) == "18:00" and repo.post_time(other) == pub.DEFAULT_SLOT
    proposed = publishing.propose(director, {"community_id": evening, "topic": "傍晚的提示",
                                             "planned_day": day.isoformat()})
    assert proposed["slot"] == "18:00"  # a new post takes the account's time
    assert publishing.calendar(director, evening, None)["post_time"] == "18:00"

    ids = covers(wechat, [evening])
    approved_post(evening, day, ids[evening], slot="18:00")  # approved, at the account's time
    clock.set_clock(datetime.combine(day, dtime(8, 0, 20), tzinfo=dates.SHANGHAI))
    morning_run = post_delivery.enqueue_day(clock.now())
    missed = {d.account_id for d in PostDay.query(evening, PostDay.day == day.isoformat())} | \
        {d.account_id for d in PostDay.query(other, PostDay.day == day.isoformat())}
    assert other in missed and evening not in missed  # 08:00: the other account missed; 18:00's not yet
    assert morning_run["missed"] >= 1
    clock.set_clock(datetime.combine(day, dtime(12, 30, 5), tzinfo=dates.SHANGHAI))
    assert post_delivery.enqueue_day(clock.now())["missed"] == 0  # nobody's time: nothing written
    clock.set_clock(datetime.combine(day, dtime(17, 30), tzinfo=dates.SHANGHAI))
    before_time = post_delivery.enqueue_day(clock.now())["queued"]  # (earlier posts: no worker ran)
    clock.set_clock(datetime.combine(day, dtime(18, 0, 10), tzinfo=dates.SHANGHAI))
    assert post_delivery.enqueue_day(clock.now())["queued"] == before_time + 1  # 18:00: its post goes


def test_two_workers_at_once_send_once(seed_on_server, wechat, morning):
    ids = covers(wechat, SUBS[:1])
    post = approved_post(SUBS[0], today(), ids[SUBS[0]])
    message = {"account_id": post.account_id, "day": today().isoformat(), "post_id": post.post_id,
               "account_type": "subscription"}
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def worker():
        start.wait()
        try:
            outcomes.append(post_delivery.send_post(message))
        except repo.Claimed:
            outcomes.append("claimed")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sends(wechat)) == 1, outcomes
    assert outcomes.count("mass") == 1 and set(outcomes) <= {"mass", "claimed", "done", "skipped:scheduled",
                                                             "skipped:sent"}
    assert PostDay.get(post.account_id, today().isoformat()).outcome == "sent"


def test_a_worker_that_dies_after_wechat_accepted_is_recovered_by_clientmsgid(seed, wechat, morning, monkeypatch):
    ids = covers(wechat, SUBS[:1])
    post = approved_post(SUBS[0], today(), ids[SUBS[0]])
    message = {"account_id": post.account_id, "day": today().isoformat(), "post_id": post.post_id,
               "account_type": "subscription"}
    real_finish = repo.finish_day

    def die(*args, **kwargs):
        raise TimeoutError("the Lambda timed out before recording the send")

    monkeypatch.setattr(repo, "finish_day", die)
    with pytest.raises(TimeoutError):
        post_delivery.send_post(message)
    assert len(sends(wechat)) == 1
    first_msg_id = sends(wechat)[0]["response"]["msg_id"]
    assert PostDay.get(post.account_id, today().isoformat()).outcome == "claimed"

    monkeypatch.setattr(repo, "finish_day", real_finish)
    with pytest.raises(repo.Claimed):  # SQS redelivers early: the claim is still fresh, nothing is sent
        post_delivery.send_post(message)
    clock.set_clock(clock.now() + post_delivery.LEASE + timedelta(seconds=1))
    assert post_delivery.send_post(message) == "mass"
    refused = [c for c in wechat.calls if c["path"] == "/cgi-bin/message/mass/sendall"
               and c["response"].get("errcode") == 45065]
    assert len(refused) == 1 and len(sends(wechat)) == 1  # WeChat sent it once
    day = PostDay.get(post.account_id, today().isoformat())
    assert (day.outcome, day.job_id, int(day.attempts)) == ("sent", str(first_msg_id), 2)


def test_subscription_quota_gone_fails_without_retry_and_shows_in_the_calendar(seed, wechat, morning):
    ids = covers(wechat, SUBS[:1])
    post = approved_post(SUBS[0], today(), ids[SUBS[0]])
    wechat.mass_sends[wechat.account(account_id=SUBS[0])["appid"]] = [wechat.clock.time()]  # sent in WeChat's console
    result = run("daily-post", {"day": today().isoformat()})
    assert result["queues"][0] == {"queue": "posts", "handled": 1, "failed_deliveries": 0}
    day = PostDay.get(post.account_id, today().isoformat())
    assert day.outcome == "failed" and "群发次数已用完" in day.error
    assert repo.get_post(post.post_id).state == "failed"
    with Client(app, stage_name="test") as client:
        from tests.test_publishing_workflow import Staff

        admin = Staff(client.http, "admin.shinan")
        status, cal = admin.call("GET", f"/api/v1/communities/{SUBS[0]}/post-calendar")
    [entry] = [d for d in cal["days"] if d["day"] == today().isoformat()]
    assert entry["outcome"] == "failed" and entry["posts"][0]["state"] == "failed"


def test_a_service_account_without_mass_sends_left_publishes_and_says_followers_are_not_notified(seed, wechat,
                                                                                                 morning):
    ids = covers(wechat, [SERVICE_ACCOUNT])
    post = approved_post(SERVICE_ACCOUNT, today(), ids[SERVICE_ACCOUNT])
    wechat.mass_sends[wechat.account(account_id=SERVICE_ACCOUNT)["appid"]] = [wechat.clock.time()] * 4
    run("daily-post", {"day": today().isoformat()})
    day = PostDay.get(post.account_id, today().isoformat())
    assert (day.outcome, day.mode) == ("sent", "freepublish") and "不会推送通知" in day.note
    assert len(sends(wechat, "/cgi-bin/freepublish/submit")) == 1 and len(sends(wechat)) == 0


def test_rate_limited_45047_is_retried_with_back_off_then_failed_after_the_last_try(seed, wechat, morning):
    ids = covers(wechat, SUBS[:1])
    post = approved_post(SUBS[0], today(), ids[SUBS[0]])
    message = {"account_id": post.account_id, "day": today().isoformat(), "post_id": post.post_id,
               "account_type": "subscription"}

    class Busy:
        def __init__(self, account_id):
            from chalicelib.wechat.client import client_for

            real = client_for(account_id)
            self.draft, self.freepublish = real.draft, real.freepublish
            self.mass = self

        def send_article_to_all(self, media_id, clientmsgid):
            raise WeChatApiError(45047, "out of response count limit")

    with bootstrap.override(wechat=Busy):
        with pytest.raises(WeChatApiError):
            post_delivery.send_post(message)
    day = PostDay.get(post.account_id, today().isoformat())
    assert day.outcome == "claimed" and day.claimed_at is None  # released: the retry need not wait for the lease
    assert queues.QUEUES["posts"].backoff_s > 0 and queues.QUEUES["posts"].max_receives > 1
    post_delivery.give_up(message, "WeChatApiError: 45047")  # what the queue handler calls after the last try
    assert PostDay.get(post.account_id, today().isoformat()).outcome == "failed"
    assert repo.get_post(post.post_id).state == "failed"
    assert len(sends(wechat)) == 0


def _callback(http, account: dict, xml: str):
    ts, nonce = str(int(time.time())), "n1"
    query = {"signature": sign(account["demo_secrets"]["token"], ts, nonce), "timestamp": ts, "nonce": nonce,
             "openid": "oR5Gjjl_eiZoUpGozMo7dbBJ362A"}
    return http.post(f"/wechat/{account['id']}?{urlencode(query)}", body=xml.encode(),
                     headers={"Content-Type": "text/xml"})


def test_wechat_job_reports_record_the_outcome_and_article_urls(seed, wechat, morning):
    ids = covers(wechat, [SUBS[0], SERVICE_ACCOUNT])
    approved_post(SUBS[0], today(), ids[SUBS[0]])
    approved_post(SERVICE_ACCOUNT, today(), ids[SERVICE_ACCOUNT])
    wechat.mass_sends[wechat.account(account_id=SERVICE_ACCOUNT)["appid"]] = [wechat.clock.time()] * 4
    run("daily-post", {"day": today().isoformat()})
    mass = PostDay.get(SUBS[0], today().isoformat())
    published = PostDay.get(SERVICE_ACCOUNT, today().isoformat())
    accounts = {a["id"]: a for a in seed.records("accounts")}
    with Client(app, stage_name="test") as client:
        answer = _callback(client.http, accounts[SUBS[0]], wechat.job_report_xml(SUBS[0], mass.job_id, "err(30001)"))
        assert answer.status_code == 200
        answer = _callback(client.http, accounts[SERVICE_ACCOUNT],
                           wechat.job_report_xml(SERVICE_ACCOUNT, published.job_id))
        assert answer.status_code == 200
    mass = PostDay.get(SUBS[0], today().isoformat())
    assert mass.outcome == "filtered" and json.loads(mass.report)["status"] == "err(30001)"
    assert json.loads(mass.report)["article_urls"][0].startswith("https://mp.weixin.qq.com/s/")
    published = PostDay.get(SERVICE_ACCOUNT, today().isoformat())
    assert published.outcome == "sent" and json.loads(published.report)["article_urls"]
    events, _ = repo.history(mass.post_id)
    assert events[-1]["action"] == "job_report" and events[-1]["label"] == "微信报告：被过滤"


def test_post_reminder_tells_communities_without_an_approved_post_for_tomorrow(seed, wechat, morning):
    tomorrow = today() + timedelta(days=1)
    approved_post("xianggang-huayuan", tomorrow)
    result = run("post-reminder", {})
    assert result["result"]["day"] == tomorrow.isoformat() and result["result"]["communities"] >= 3
    told = {n.username for n in StaffNotice.scan()}  # test-only read
    assert {"sw.jiangsu-lu", "director.jiangsu-lu", "sw.zhanshan"} <= told
    assert "sw.xianggang-huayuan" not in told and "director.xianggang-huayuan" not in told
    again = run("post-reminder", {})
    assert again["result"] == result["result"] and len(list(StaffNotice.scan())) == result["result"]["notices"]


def test_the_demo_posts_cover_every_state_and_today_goes_out(seed, wechat, morning):
    from local.seed_posts import load_demo_posts

    counts = load_demo_posts()
    assert {"topic", "draft", "first_review", "second_review", "scheduled", "sent", "failed", "missed"} <= set(counts)
    assert load_demo_posts() == {"kept": sum(v for k, v in counts.items() if k != "missed"), "missed": 0}  # twice
    result = run("daily-post", {})
    assert result["result"]["queued"] == counts["scheduled"] == 4
    assert result["queues"][0]["handled"] == 4, result
    assert len(sends(wechat)) == 4, [c["response"] for c in wechat.calls if c["path"].startswith("/cgi-bin/draft")]
    with Client(app, stage_name="test") as client:
        from tests.test_publishing_workflow import Staff

        sw = Staff(client.http, "sw.xianggang-huayuan")
        status, cal = sw.call("GET", "/api/v1/communities/xianggang-huayuan/post-calendar")
        status, desk = Staff(client.http, "director.xianggang-huayuan").call("GET", "/api/v1/publishing/queue")
    by_day = {d["day"]: d for d in cal["days"]}
    assert by_day[today().isoformat()]["outcome"] == "sent"
    if (today() - timedelta(days=2)).month == today().month:
        assert by_day[(today() - timedelta(days=2)).isoformat()]["outcome"] == "missed"
    assert desk["counts"]["first_review"] == 1


def test_the_scheduler_sends_ten_messages_per_sqs_call(seed, morning):
    from chalicelib.store.org import Community

    accounts = [c.community_id for c in Community.scan()][:23]  # test-only read
    for a in accounts:
        approved_post(a, today())
    calls: list[str] = []
    queues._sqs().meta.events.register("before-call.sqs", lambda model, **_: calls.append(model.name))
    result = post_delivery.enqueue_day(clock.now(), today())
    assert result["queued"] == 23 and calls.count("SendMessageBatch") == 3  # ceil(23 / 10)
