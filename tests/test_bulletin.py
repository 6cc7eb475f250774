"""The monthly bulletin (月通报): hand-computed figures, ranks, sums and deductions; issuing once with one set
of messages; appeals with their trail; corrections; exports; the API contract; the counters kept at write time."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from chalice.test import Client

from app import app
from chalicelib import clock
from chalicelib.domain import bulletin as bl
from chalicelib.domain.exports import XLSX_TYPE
from chalicelib.store import bulletins as repo
from chalicelib.store.community_months import CommunityMonth
from chalicelib.store.counters import Counter
from chalicelib.store.outbox import OutboxMessage
from chalicelib.store.posts import PostDay
from chalicelib.store.stats import AccountDailyStats
from local.jobs import run
from tests.staff import login
from tests.wechat_driver import WeChat

MONTH = "2026-11"
ISSUE_TIME = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)  # the 1st, 10:00 Shanghai
XG, NJ, JS = "xianggang-huayuan", "nanjing-lu", "jiangsu-lu"  # XG and NJ are in jinhu-lu, JS in jiangsu-lu


def days(n: int, start: int = 1) -> list[date]:
    return [date(2026, 11, d) for d in range(start, start + n)]


def put_month(account_id: str, sent_days: int, reads_per_post: int, followers: tuple[int, int]) -> None:
    """A month of synthetic figures: `sent_days` sends (the first days of the month), the rest missed;
    followers move evenly from the first to the second figure; each send read `reads_per_post` times,
    the headline 60 % of it."""
    start, end = followers
    AccountDailyStats(account_id, "2026-10-31", followers=start).save()
    for day in days(30):
        n = day.day
        sent = n <= sent_days
        AccountDailyStats(account_id, day.isoformat(), followers=start + (end - start) * n // 30,
                          new_followers=max(0, (end - start) // 30), lost_followers=max(0, (start - end) // 30),
                          article_reads=reads_per_post if sent else 5, post_reads=reads_per_post if sent else 0,
                          headline_reads=reads_per_post * 6 // 10 if sent else 0).save()
        PostDay(account_id, day.isoformat(), community_id=account_id, outcome="sent" if sent else "missed").save()


def put_requests(community_id: str, **figures) -> None:
    CommunityMonth(community_id, MONTH, **figures).save()


@pytest.fixture
def http(seed, wechat):
    clock.set_clock(ISSUE_TIME)
    with Client(app, stage_name="test") as client:
        yield client.http


def call(http, method: str, path: str, headers: dict, body=None):
    answer = getattr(http, method)(path, headers=headers, **({"body": json.dumps(body)} if body is not None else {}))
    return answer.status_code, (json.loads(answer.body) if answer.body and answer.headers.get(
        "Content-Type", "").startswith("application/json") else answer.body)


@pytest.fixture
def synthetic(http):
    """The demo district's month: three communities with figures, the other 62 with none."""
    put_month(XG, 28, 100, (1000, 1090))
    put_month(NJ, 28, 50, (500, 530))
    put_month(JS, 15, 200, (2000, 1970))
    put_requests(XG, filed=10, completed=8, completed_on_time=6, overdue=2, rated=2, rating_sum=9,
                 meals_delivered=12, hours=[1, 2, 3, 10, 20, 30, 40, 50])
    put_requests(JS, filed=20, completed=20, completed_on_time=20, overdue=1, rated=0, rating_sum=0)
    admin = login(http, "admin.shinan")
    # rank on posts, then reads (no composite index) so the ranking is computed by hand below
    status, _ = call(http, "put", "/api/v1/bulletin-rules", admin, {"rules": bl.DEFAULT_RULES, "index": None})
    assert status == 200
    return admin


def row(body, community):
    return next(r for r in body["rows"] if r["community_id"] == community)


def test_a_synthetic_month_gives_the_hand_computed_ranking_sums_and_deductions(http, synthetic):
    result = run("monthly-bulletin", {"month": MONTH})
    assert result["result"]["status"] == "draft" and result["result"]["communities"] == 65
    status, body = call(http, "get", f"/api/v1/bulletins/{MONTH}", synthetic)
    assert status == 200 and body["status"] == "draft" and body["version"] == 1 and len(body["rows"]) == 65

    xg, nj, js = row(body, XG), row(body, NJ), row(body, JS)
    # XG: 28 sends read 100 times each, 2 days missed, 1000 -> 1090 followers
    assert (xg["posts_sent"], xg["days_missed"], xg["reads_total"], xg["reads_per_post"], xg["headline_reads"]) == \
        (28, 2, 2800, 100.0, 28 * 60)
    assert (xg["followers_start"], xg["followers_end"], xg["followers_growth"]) == (1000, 1090, 90)
    assert (xg["requests_filed"], xg["requests_completed"], xg["requests_completed_on_time"]) == (10, 8, 6)
    assert xg["median_hours_to_complete"] == 15.0  # (10 + 20) / 2
    assert (xg["satisfaction"], xg["ratings"], xg["meals_delivered"]) == (4.5, 2, 12)
    # the ranking: posts, then total reads, then followers, then the id
    assert (xg["rank_district"], nj["rank_district"], js["rank_district"]) == (1, 2, 3)
    assert (xg["rank_subdistrict"], nj["rank_subdistrict"], js["rank_subdistrict"]) == (1, 2, 1)
    silent = sorted(r["community_id"] for r in body["rows"] if r["community_id"] not in (XG, NJ, JS))
    assert [r["community_id"] for r in body["rows"][3:]] == silent  # all zero: by id
    assert xg["rank_change"] is None  # no bulletin last month

    # deductions, line by line: XG 2 of 10 overdue (20 % > 10 %): 2 points
    assert [(d["rule_id"], d["points"]) for d in xg["deductions"]] == [("overdue-requests", 2.0)]
    assert "超时 2 件（20%）" in xg["deductions"][0]["explanation"]
    assert xg["final_points"] == 98.0
    # JS: 15 sends (< 20: 2), 15 days missed (7 over 8: 3.5), followers fell (1), 1 of 20 overdue (5 %: none)
    assert [(d["rule_id"], d["points"]) for d in js["deductions"]] == [
        ("few-posts", 2.0), ("missed-days", 3.5), ("follower-loss", 1.0)]
    assert js["final_points"] == 93.5
    assert js["deductions"][1]["figures"] == {"days_missed": 15, "max_days": 8}
    # a silent community: no sends (2), 30 days missed (22 over: capped at 5)
    quiet = row(body, silent[0])
    assert [(d["rule_id"], d["points"]) for d in quiet["deductions"]] == [("few-posts", 2.0), ("missed-days", 5.0)]

    jinhu = next(s for s in body["subdistricts"] if s["subdistrict_id"] == "jinhu-lu")
    assert (jinhu["communities"], jinhu["posts_sent"], jinhu["reads_total"], jinhu["followers_end"]) == (5, 56, 4200,
                                                                                                       1620)
    assert jinhu["days_missed"] == 2 + 2 + 3 * 30 and jinhu["requests_filed"] == 10
    assert jinhu["points_deducted"] == 2.0 + 0 + 3 * 7.0  # XG 2, NJ none, the three silent ones 7 each


def test_the_composite_index_is_data_and_its_computation_is_shown(http, synthetic):
    admin = synthetic
    formula = {"name": "测试指数", "scale": 10, "divisor": 1, "terms": [
        {"field": "posts_sent", "weight": 1, "transform": "linear"},
        {"field": "reads_total", "weight": 0.01, "transform": "linear"}]}
    status, saved = call(http, "put", "/api/v1/bulletin-rules", admin, {"rules": bl.DEFAULT_RULES, "index": formula})
    assert status == 200 and saved["index"]["name"] == "测试指数"
    run("monthly-bulletin", {"month": MONTH})
    body = call(http, "get", f"/api/v1/bulletins/{MONTH}", admin)[1]
    js, xg = row(body, JS), row(body, XG)
    assert js["index"] == 10 * (15 + 0.01 * 3000) == 450 and xg["index"] == 10 * (28 + 28) == 560
    assert js["index_computation"] == "10×(1×15 + 0.01×3000)/1 = 450"
    status, bad = call(http, "put", "/api/v1/bulletin-rules", admin, {"rules": [], "index": {"terms": [
        {"field": "phone", "weight": 1}]}})
    assert status == 400 and bad["code"] == "bad_index"


def test_running_the_job_twice_issues_one_bulletin_and_tells_each_director_and_reviewer_once(http, synthetic, wechat):
    first = run("monthly-bulletin", {"month": MONTH, "issue": True})
    assert first["result"]["status"] == "issued"
    told = first["result"]["notified"]
    assert told["written"] == told["recipients"] == 15  # 4 directors and 11 reviewers of the seed, all bound
    assert first["queues"][0]["handled"] == 15
    sends = [c for c in wechat.calls if c["path"] == "/cgi-bin/message/template/send"]
    assert len(sends) == 15 and len({c["body"]["touser"] for c in sends}) == 15
    text = next(c["body"]["data"]["first"]["value"] for c in sends if "香港花园社区" in c["body"]["data"]["first"]["value"])
    assert "2026年11月" in text and "全区第1名" in text and "#/bulletin?month=2026-11" in text

    again = run("monthly-bulletin", {"month": MONTH, "issue": True})
    assert again["result"]["status"] == "issued" and again["result"]["notified"]["written"] == 0
    assert again["queues"][0]["handled"] == 0
    assert len([c for c in wechat.calls if c["path"] == "/cgi-bin/message/template/send"]) == 15
    assert [v["version"] for v in repo.versions("shinan", MONTH)] == [1]
    assert len([m for m in OutboxMessage.scan() if m.purpose == "bulletin"]) == 15  # test-only scan

    status, body = call(http, "post", f"/api/v1/bulletins/{MONTH}/issue", synthetic)
    assert status == 409 and body["code"] == "already_issued"


def test_an_issued_bulletin_is_never_rebuilt_and_a_correction_is_a_new_version_saying_what_changed(http, synthetic):
    admin = synthetic
    run("monthly-bulletin", {"month": MONTH})
    assert call(http, "post", f"/api/v1/bulletins/{MONTH}/issue", admin)[0] == 200
    PostDay(XG, "2026-11-29", community_id=XG, outcome="sent").save()  # a late job report: one more send
    run("monthly-bulletin", {"month": MONTH})
    assert row(call(http, "get", f"/api/v1/bulletins/{MONTH}", admin)[1], XG)["posts_sent"] == 28  # unchanged
    status, body = call(http, "post", f"/api/v1/bulletins/{MONTH}/corrections", admin, {"reason": "补录11月29日发稿"})
    assert status == 201 and body["version"] == 2
    assert {"community_id": XG, "community_name": "香港花园社区", "field": "posts_sent", "from": 28, "to": 29} \
        in body["changes"]["changes"]
    view = call(http, "get", f"/api/v1/bulletins/{MONTH}", admin)[1]
    assert view["status"] == "draft" and view["version"] == 2 and view["correction"]["reason"] == "补录11月29日发稿"
    assert call(http, "get", f"/api/v1/bulletins/{MONTH}?version=1", admin)[1]["rows"][0]["posts_sent"] == 28
    assert call(http, "post", f"/api/v1/bulletins/{MONTH}/issue", admin)[0] == 200
    assert [(v["version"], v["status"]) for v in repo.versions("shinan", MONTH)] == [(1, "issued"), (2, "issued")]


def test_an_appeal_changes_the_final_points_and_leaves_its_trail(http, synthetic):
    admin = synthetic
    run("monthly-bulletin", {"month": MONTH, "issue": True})
    reviewer = login(http, "reviewer.jiangsu-lu")
    line = f"{JS}:missed-days"
    status, body = call(http, "post", f"/api/v1/bulletins/{MONTH}/appeals", reviewer,
                        {"line_id": line, "reason": "11月16日起社区服务器故障，已报区里备案"})
    assert status == 201 and body["state"] == "pending"
    assert call(http, "post", f"/api/v1/bulletins/{MONTH}/appeals", reviewer,
                {"line_id": line, "reason": "再次申诉"})[1]["code"] == "already_appealed"
    other = login(http, "reviewer.jinhu-lu")  # not their community: as if it did not exist
    assert call(http, "post", f"/api/v1/bulletins/{MONTH}/appeals", other, {"line_id": line, "reason": "x"})[0] == 404
    assert call(http, "post", f"/api/v1/bulletins/{MONTH}/decisions", reviewer,
                {"line_id": line, "decision": "accept"})[0] == 403

    status, decided = call(http, "post", f"/api/v1/bulletins/{MONTH}/decisions", admin,
                           {"line_id": line, "decision": "accept", "points": 1, "note": "情况属实，减为1分"})
    assert status == 200 and decided["state"] == "accepted"
    assert [(t["action"], t["by"]) for t in decided["trail"]] == [("appeal", "reviewer.jiangsu-lu"),
                                                                  ("accept", "admin.shinan")]
    js = row(call(http, "get", f"/api/v1/bulletins/{MONTH}", reviewer)[1], JS)
    missed = next(d for d in js["deductions"] if d["rule_id"] == "missed-days")
    assert missed["points"] == 3.5 and missed["final_points"] == 1.0 and missed["appeal"]["decision_note"]
    assert js["points"] == 93.5 and js["final_points"] == 96.0  # the issued figure stays; the final one moves
    assert call(http, "post", f"/api/v1/bulletins/{MONTH}/decisions", admin,
                {"line_id": line, "decision": "reject"})[1]["code"] == "already_decided"


def test_the_api_contract_and_scope(http, synthetic):
    run("monthly-bulletin", {"month": MONTH})
    status, body = call(http, "get", f"/api/v1/bulletins/{MONTH}", synthetic)
    assert {"month", "status", "version", "rows"} <= set(body) and body["month"] == MONTH
    for r in body["rows"]:
        assert {"account_id", "community_id", "subdistrict_id"} <= set(r)
        assert all(isinstance(r[k], int) for k in ("posts_sent", "days_missed", "requests_filed", "requests_completed"))
    reviewer = call(http, "get", f"/api/v1/bulletins/{MONTH}", login(http, "reviewer.jinhu-lu"))[1]
    assert sorted(r["community_id"] for r in reviewer["rows"]) == sorted(
        ["nanjing-lu", "taizhou-lu", "xianggang-huayuan", "xuzhou-lu", "yanji-lu"])
    assert [s["subdistrict_id"] for s in reviewer["subdistricts"]] == ["jinhu-lu"]
    director = call(http, "get", f"/api/v1/bulletins/{MONTH}", login(http, "director.xianggang-huayuan"))[1]
    assert [r["community_id"] for r in director["rows"]] == [XG]
    assert call(http, "get", f"/api/v1/bulletins/{MONTH}", login(http, "sw.xianggang-huayuan"))[0] == 403
    assert call(http, "post", f"/api/v1/bulletins/{MONTH}/issue", login(http, "reviewer.jinhu-lu"))[0] == 403
    assert call(http, "get", "/api/v1/bulletins/2026-13", synthetic)[1]["code"] == "bad_month"
    assert call(http, "get", "/api/v1/bulletins/2026-09", synthetic)[0] == 404
    assert http.get(f"/api/v1/bulletins/{MONTH}").status_code == 401


def test_csv_and_xlsx_downloads(http, synthetic):
    run("monthly-bulletin", {"month": MONTH})
    answer = http.get(f"/api/v1/bulletins/{MONTH}/export?format=csv", headers=synthetic)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    text = answer.body.decode("utf-8") if isinstance(answer.body, bytes) else answer.body
    assert text.startswith("\ufeff全区排名,") and "香港花园社区" in text and len(text.strip().splitlines()) == 66
    answer = http.get(f"/api/v1/bulletins/{MONTH}/export?format=xlsx", headers={**synthetic, "Accept": XLSX_TYPE})
    assert answer.status_code == 200 and answer.headers["Content-Type"] == XLSX_TYPE and answer.body[:2] == b"PK"
    assert http.get(f"/api/v1/bulletins/{MONTH}/export?format=pdf", headers=synthetic).status_code == 400


def test_rules_are_data_the_district_edits(http, synthetic):
    admin = synthetic
    rules = [{"id": "few-posts", "kind": "min_posts", "label": "发稿不足", "min_posts": 29, "points": 4}]
    status, saved = call(http, "put", "/api/v1/bulletin-rules", admin, {"rules": rules})
    assert status == 200 and saved["rules"] == rules and saved["index"] is None  # the index stays off
    run("monthly-bulletin", {"month": MONTH})
    xg = row(call(http, "get", f"/api/v1/bulletins/{MONTH}", admin)[1], XG)
    assert [(d["rule"], d["points"]) for d in xg["deductions"]] == [("发稿不足", 4.0)]
    reviewer = login(http, "reviewer.jinhu-lu")
    assert call(http, "put", "/api/v1/bulletin-rules", reviewer, {"rules": rules})[0] == 403
    assert call(http, "get", "/api/v1/bulletin-rules", reviewer)[0] == 200
    status, bad = call(http, "put", "/api/v1/bulletin-rules", admin, {"rules": [{"id": "x", "kind": "min_posts"}]})
    assert status == 400 and "min_posts" in bad["message"]


def test_last_months_bulletin_gives_the_change_of_rank(http, synthetic):
    october = bl.build("2026-10", [bl.CommunityFigures(XG, XG, "香港花园社区", "jinhu-lu", "金湖路街道", 31),
                                   bl.CommunityFigures(NJ, NJ, "南京路社区", "jinhu-lu", "金湖路街道", 31, posts_sent=3)],
                       [], None, None)
    repo.save_draft("shinan", "2026-10", 1, october, ISSUE_TIME)
    run("monthly-bulletin", {"month": MONTH})
    body = call(http, "get", f"/api/v1/bulletins/{MONTH}", synthetic)[1]
    assert row(body, XG)["previous"]["rank_district"] == 2 and row(body, XG)["rank_change"] == 1  # up one
    assert row(body, NJ)["rank_change"] == -1 and row(body, JS)["rank_change"] is None


# ---- the counters are kept where the requests are written -------------------------------------------

def test_filing_completing_rating_and_escalating_keep_the_month_counters(seed, morning, wechat):
    with Client(app, stage_name="test") as client:
        http = client.http
        wx = WeChat(http, XG, seed)
        wx.text("o-elder", "地址 香港中路10号3单元502")
        wx.text("o-elder", "我们老两口身体不便，能否明天派人送饭？")
        sw = login(http, "sw.xianggang-huayuan")
        number = json.loads(http.get("/api/v1/requests", headers=sw).body)["items"][0]["number"]
        month = bl.month_of(clock.now().astimezone(timezone(timedelta(hours=8))).date())
        counts = CommunityMonth.get(XG, month)
        assert counts.filed == 1 and counts.completed == 0

        http.post(f"/api/v1/requests/{number}/transitions", headers=sw, body=json.dumps({"action": "assign"}))
        # the sweep finds it overdue a day later: the month's overdue count and the open overdue counter move
        clock.set_clock(clock.now() + timedelta(days=2))
        run("sla-sweep", {})
        assert CommunityMonth.get(XG, month).overdue == 1
        assert Counter.get(f"count#{XG}#overdue").value == 1
        team = login(http, "team.xianggang-huayuan-365")
        answer = http.post(f"/api/v1/requests/{number}/transitions", headers=team, body=json.dumps({"action": "complete"}))
        assert answer.status_code == 200, answer.body
        assert Counter.get(f"count#{XG}#overdue").value == 0  # no longer open
        wx.text("o-elder", f"评价 {number} 5 很满意")
    counts = CommunityMonth.get(XG, month)
    assert (counts.completed, counts.completed_on_time, counts.meals_delivered) == (1, 0, 2)  # late: not on time
    assert (counts.rated, counts.rating_sum) == (1, 5) and len(counts.hours) == 1 and counts.hours[0] >= 48


# ---- the district overview --------------------------------------------------------------------------

def test_the_overview_pages_the_communities_in_scope_with_their_counters(http, synthetic):
    admin = synthetic
    today = date(2026, 12, 1)
    PostDay(XG, today.isoformat(), community_id=XG, outcome="sent").save()
    Counter(f"count#{XG}#submitted", value=3).save()
    Counter(f"count#{XG}#overdue", value=1).save()
    CommunityMonth(XG, "2026-12", filed=4, completed=1).save()
    AccountDailyStats(XG, "2026-11-30", followers=1090).save()
    status, first = call(http, "get", "/api/v1/overview?limit=20", admin)
    assert status == 200 and len(first["rows"]) == 20 and first["cursor"] and first["day"] == "2026-12-01"
    seen = [r["community_id"] for r in first["rows"]]
    while first["cursor"]:
        first = call(http, "get", f"/api/v1/overview?limit=20&cursor={first['cursor']}", admin)[1]
        seen += [r["community_id"] for r in first["rows"]]
    assert len(seen) == len(set(seen)) == 65
    reviewer = login(http, "reviewer.jinhu-lu")
    status, page = call(http, "get", "/api/v1/overview", reviewer)
    assert status == 200 and sorted(r["community_id"] for r in page["rows"]) == sorted(
        ["nanjing-lu", "taizhou-lu", "xianggang-huayuan", "xuzhou-lu", "yanji-lu"])
    xg = row(page, XG)
    assert (xg["requests_open"], xg["requests_overdue"], xg["today_post"]) == (3, 1, "sent")
    assert xg["month"] == {"posts_sent": 1, "requests_filed": 4, "requests_completed": 1, "meals_delivered": 0,
                           "followers": 1090}
    assert row(page, NJ)["today_post"] == "missing"
    assert call(http, "get", "/api/v1/overview?subdistrict=jiangsu-lu", reviewer)[0] == 404
    assert call(http, "get", "/api/v1/overview", login(http, "director.xianggang-huayuan"))[0] == 403
    assert call(http, "get", "/api/v1/overview?cursor=forged", admin)[0] == 400


def test_late_reviews_deduct_when_more_than_n_waited_longer_than_n_hours():
    from chalicelib.domain import bulletin as bl

    rule = bl.check_rules([{"id": "late-reviews", "kind": "late_reviews", "label": "稿件审核不及时",
                            "max_hours": 24, "max_times": 2, "points": 1.5}])
    row = {"community_id": "c1"}
    assert bl.deductions_of(row, rule, [30, 25, 3, 1]) == []  # two late: not more than two
    [line] = bl.deductions_of(row, rule, [30, 25, 48.5, 3])
    assert line["points"] == 1.5 and line["rule_id"] == "late-reviews"
    assert line["figures"] == {"reviews": 4, "late_reviews": 3, "max_hours": 24, "max_times": 2}
    assert line["explanation"] == "稿件审核 4 次中 3 次超过 24 小时，多于 2 次，扣 1.5 分"
    figures = bl.CommunityFigures("a1", "c1", "一社区", "s1", "一街道", 30, review_hours=[30, 25, 48.5, 3])
    body = bl.build("2026-11", [figures], rule, None, None)
    [row] = body["rows"]
    assert row["reviews"] == 4 and row["median_review_hours"] == 27.5 and row["max_review_hours"] == 48.5
    assert row["points_deducted"] == 1.5


def test_the_bulletins_median_is_the_standard_librarys():
    import random
    import statistics

    from chalicelib.domain.bulletin import median
    draw = random.Random(18)
    for n in range(1, 40):
        hours = [round(draw.uniform(0, 200), 1) for _ in range(n)]
        counts = [draw.randint(0, 5) for _ in range(n)]
        assert median(hours) == statistics.median(hours) and median(counts) == statistics.median(counts)
