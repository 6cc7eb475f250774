"""The five-step review through the staff API, with every role, and its refusals: self-approval, another
community's post, a sub-district reviewer of another sub-district, edits while locked; the audit trail,
the diff since the last review, the notices to the next person, the review desk's counts, the calendar."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from chalice.test import Client

from app import app

OWN = "xianggang-huayuan"
PASSWORD = "Demo#2026"
IMG = "http://mmbiz.qpic.cn/mmbiz_png/demo/0"


def article(title="冬季用电安全提示", text="请大家注意用电安全，不要私拉电线。") -> dict:
    return {"title": title, "author": "社工小李", "digest": "冬季用电安全", "cover_media_id": "demo-cover",
            "cover_url": IMG, "content": f'<p>{text}</p><img src="{IMG}" alt="用电安全示意图">'}


class Staff:
    def __init__(self, http, username: str):
        self.http, self.username = http, username
        answer = http.post("/api/v1/auth/login", headers={"Content-Type": "application/json"},
                           body=json.dumps({"username": username, "password": PASSWORD}))
        assert answer.status_code == 200, answer.body
        self.headers = {"Authorization": "Bearer " + json.loads(answer.body)["token"],
                        "Content-Type": "application/json"}

    def call(self, method: str, path: str, body=None):
        kwargs = {"body": json.dumps(body, ensure_ascii=False)} if body is not None else {}
        answer = getattr(self.http, method.lower())(path, headers=self.headers, **kwargs)
        return answer.status_code, json.loads(answer.body or b"{}")

    def step(self, post_id: str, action: str, **extra):
        return self.call("POST", f"/api/v1/posts/{post_id}/steps", {"action": action, **extra})


@pytest.fixture
def staff(seed, morning):
    with Client(app, stage_name="test") as client:
        names = {"sw": "sw.xianggang-huayuan", "director": "director.xianggang-huayuan",
                 "reviewer": "reviewer.jinhu-lu", "other_reviewer": "reviewer.jiangsu-lu",
                 "other_director": "director.jiangsu-lu", "other_sw": "sw.jiangsu-lu", "admin": "admin.shinan"}
        yield {k: Staff(client.http, v) for k, v in names.items()}


def _tomorrow(morning) -> str:
    return (morning.date() + timedelta(days=1)).isoformat()


def test_the_whole_workflow_with_every_role(staff, morning):
    sw, director, reviewer = staff["sw"], staff["director"], staff["reviewer"]
    day = _tomorrow(morning)

    # 社区选题: the director proposes a topic; the social worker writes it
    status, post = director.call("POST", "/api/v1/posts", {"topic": "冬季用电安全", "planned_day": day})
    assert status == 201 and post["state"] == "topic" and post["community_id"] == OWN
    pid = post["post_id"]
    status, post = sw.step(pid, "start")
    assert status == 200 and post["state"] == "draft"
    status, post = sw.call("PUT", f"/api/v1/posts/{pid}", {"articles": [article()], "version": post["version"]})
    assert status == 200 and post["revision"] == 2 and post["authors"] == [sw.username]

    # a stale version is refused (two editors at once)
    status, body = sw.call("PUT", f"/api/v1/posts/{pid}", {"topic": "改", "version": 0})
    assert status == 409, body

    # submit → first review; now locked
    status, post = sw.step(pid, "submit")
    assert status == 200 and post["state"] == "first_review" and post["locked"]
    status, body = sw.call("PUT", f"/api/v1/posts/{pid}", {"topic": "偷偷改"})
    assert status == 409 and body["code"] == "locked"

    # refusals: another community's director and social worker, the sub-district reviewer at first review
    for who in ("other_director", "other_sw", "other_reviewer"):
        assert staff[who].call("GET", f"/api/v1/posts/{pid}")[0] == 404
        status, body = staff[who].step(pid, "approve")
        assert status == 404 and "冬季" not in json.dumps(body, ensure_ascii=False)
    assert reviewer.step(pid, "approve")[0] == 403
    assert sw.step(pid, "approve")[0] == 403

    # the director's desk shows it, and a notice told the director
    status, desk = director.call("GET", "/api/v1/publishing/queue")
    assert desk["counts"]["first_review"] == 1 and desk["items"][0]["post_id"] == pid
    assert any(n["post_id"] == pid and n["kind"] == "review" for n in desk["notices"])

    # send back: a comment is required
    status, body = director.step(pid, "send_back", comment=" ")
    assert status == 400 and body["code"] == "comment_required"
    status, post = director.step(pid, "send_back", comment="标题请写明时间")
    assert status == 200 and post["state"] == "draft"
    status, desk = sw.call("GET", "/api/v1/publishing/queue")
    assert any(n["kind"] == "sent_back" and n["post_id"] == pid for n in desk["notices"])

    # the social worker fixes it; the director sees the diff since the review
    status, post = sw.call("PUT", f"/api/v1/posts/{pid}", {"articles": [article(title="12月起冬季用电安全提示")]})
    assert status == 200 and post["revision"] == 3
    assert sw.step(pid, "submit")[0] == 200
    status, post = director.call("GET", f"/api/v1/posts/{pid}")
    assert post["reviewed_revision"] == 2 and post["revision"] == 3, post["revisions"]
    assert "-【第1篇】标题：冬季用电安全提示" in post["diff"] and "+【第1篇】标题：12月起冬季用电安全提示" in post["diff"]
    status, post = director.step(pid, "approve")
    assert status == 200 and post["state"] == "second_review"

    # second review: another sub-district's reviewer cannot see it; the policy checklist must be ticked
    assert staff["other_reviewer"].step(pid, "approve", checklist=["source", "privacy", "politics"])[0] == 404
    assert director.step(pid, "approve")[0] == 403  # the director has no second review
    status, body = reviewer.step(pid, "approve")
    assert status == 409 and body["code"] == "check_blocked" and "未勾选" in body["message"]
    status, desk = reviewer.call("GET", "/api/v1/publishing/queue")
    assert desk["counts"]["second_review"] == 1
    status, post = reviewer.step(pid, "approve", checklist=["source", "privacy", "politics"])
    assert status == 200 and post["state"] == "scheduled"

    # the calendar shows it approved for tomorrow
    status, cal = sw.call("GET", f"/api/v1/communities/{OWN}/post-calendar?month={day[:7]}")
    [entry] = [d for d in cal["days"] if d["day"] == day]
    assert [p["state"] for p in entry["posts"]] == ["scheduled"]
    assert staff["other_sw"].call("GET", f"/api/v1/communities/{OWN}/post-calendar")[0] == 404

    # an edit after approval goes back to the first review
    status, post = sw.call("PUT", f"/api/v1/posts/{pid}", {"articles": [article(title="12月起冬季用电安全须知")]})
    assert status == 200 and post["state"] == "first_review"

    # every step is in the audit trail, in order, with who and the comment
    status, hist = director.call("GET", f"/api/v1/posts/{pid}/history")
    steps = [(e["action"], e["by"]) for e in hist["events"]]
    assert steps == [("propose", director.username), ("start", sw.username), ("edit", sw.username),
                     ("submit", sw.username), ("send_back", director.username), ("edit", sw.username),
                     ("submit", sw.username), ("approve", director.username), ("approve", reviewer.username),
                     ("edit", sw.username)]
    assert [e["comment"] for e in hist["events"] if e["action"] == "send_back"] == ["标题请写明时间"]
    assert [r["revision"] for r in hist["revisions"]] == [1, 2, 3, 4]


def test_nobody_approves_their_own_draft(staff, morning):
    director = staff["director"]
    status, post = director.call("POST", "/api/v1/posts", {"topic": "主任自己写", "planned_day": _tomorrow(morning),
                                                          "articles": [article()]})
    assert status == 201 and post["state"] == "draft"
    assert director.step(post["post_id"], "submit")[0] == 200
    status, body = director.step(post["post_id"], "approve")
    assert status == 403 and body["code"] == "self_approval"
    # the district admin may take the first review instead
    status, post = staff["admin"].step(post["post_id"], "approve")
    assert status == 200 and post["state"] == "second_review"


def test_checks_block_submit_and_outside_images_are_refused(staff, morning):
    sw, admin = staff["sw"], staff["admin"]
    status, policy = admin.call("PUT", "/api/v1/publishing/policy", {"banned_words": ["博彩"]})
    assert status == 200 and policy["banned_words"] == ["博彩"]
    assert sw.call("PUT", "/api/v1/publishing/policy", {"banned_words": []})[0] == 403
    bad = article(text="远离博彩，再接再励")
    status, post = sw.call("POST", "/api/v1/posts", {"topic": "禁用词", "planned_day": _tomorrow(morning),
                                                    "articles": [bad]})
    assert status == 201
    codes = {f["code"] for f in post["findings"]}
    assert {"banned_word", "wrong_phrase"} <= codes
    status, body = sw.step(post["post_id"], "submit")
    assert status == 409 and "禁用词" in body["message"]
    status, body = sw.call("POST", "/api/v1/publishing/check", {"articles": [bad]})
    assert status == 200 and {"banned_word", "wrong_phrase"} <= {f["code"] for f in body["findings"]}
    outside = dict(article(), content='<p>x</p><img src="https://example.com/x.png" alt="x">')
    status, body = sw.call("POST", "/api/v1/posts", {"topic": "外链图", "planned_day": _tomorrow(morning),
                                                    "articles": [outside]})
    assert status == 400 and body["code"] == "outside_image" and "example.com" in body["message"]
    status, body = sw.call("POST", "/api/v1/posts", {"topic": "长标题", "planned_day": _tomorrow(morning),
                                                    "articles": [dict(article(), title="汉" * 33)]})
    assert status == 400 and body["code"] == "title_too_long"
    status, body = sw.call("POST", "/api/v1/posts", {"topic": "x", "planned_day": "明天"})
    assert status == 400 and body["code"] == "invalid_date"


def test_each_review_step_s_wait_reaches_the_community_s_month_for_the_bulletin(staff, morning):
    """审核用时: the hours a post waited for each review step go onto its community's month counters, which
    the bulletin's `late_reviews` rule reads (reviews later than N hours more than N times)."""
    from chalicelib import clock
    from chalicelib.domain.bulletin import month_of
    from chalicelib.domain.dates import local_date
    from chalicelib.store.community_months import CommunityMonth

    sw, director, reviewer = staff["sw"], staff["director"], staff["reviewer"]
    day = (morning.date() + timedelta(days=3)).isoformat()
    status, post = sw.call("POST", "/api/v1/posts", {"topic": "审核用时", "planned_day": day, "articles": [article()]})
    assert status == 201
    pid = post["post_id"]
    assert sw.step(pid, "submit")[0] == 200
    clock.set_clock(morning + timedelta(hours=30))  # the director reviews a day and six hours later
    sw, director, reviewer = (Staff(s.http, s.username) for s in (sw, director, reviewer))  # 30-minute tokens
    status, post = director.step(pid, "send_back", comment="请补充时间")
    assert status == 200
    assert sw.step(pid, "submit")[0] == 200  # resubmitted at once: the next wait starts now
    clock.set_clock(morning + timedelta(hours=32))
    director = Staff(director.http, director.username)
    assert director.step(pid, "approve")[0] == 200
    clock.set_clock(morning + timedelta(hours=32, minutes=30))
    reviewer = Staff(reviewer.http, reviewer.username)
    status, post = reviewer.step(pid, "approve", checklist=["source", "privacy", "politics"])
    assert status == 200 and post["state"] == "scheduled"
    months = {}
    for at in (morning + timedelta(hours=30), morning + timedelta(hours=32, minutes=30)):
        month = month_of(local_date(at))
        months[month] = CommunityMonth.get(OWN, month)
    waits = sorted(h for m in months.values() for h in (m.review_hours or []))
    assert waits == [0.5, 2.0, 30.0]
    assert sum(int(m.reviews) for m in months.values()) == 3
