"""The staff API for 便民纸条, through HTTP with real logins."""
from __future__ import annotations

import json

import pytest
from chalice.test import Client

from app import app
from tests.wechat_driver import WeChat

SAFE = "xianggang-huayuan"


def login(http, username: str) -> dict:
    answer = http.post("/api/v1/auth/login", headers={"Content-Type": "application/json"},
                       body=json.dumps({"username": username, "password": "Demo#2026"}))
    assert answer.status_code == 200, answer.body
    return {"Authorization": "Bearer " + json.loads(answer.body)["token"], "Content-Type": "application/json"}


@pytest.fixture
def http(seed, morning):
    with Client(app, stage_name="test") as client:
        yield client.http


def call(http, method: str, path: str, headers: dict, body: dict | None = None):
    answer = getattr(http, method)(path, headers=headers, **({"body": json.dumps(body)} if body else {}))
    return answer.status_code, json.loads(answer.body) if answer.body else None


def test_a_social_worker_walks_a_request_through_the_api(http, seed):
    wx = WeChat(http, SAFE, seed)
    wx.text("o-elder", "地址 香港中路10号3单元502")
    wx.text("o-elder", "我们老两口身体不便，能否明天派人送饭？")
    sw = login(http, "sw.xianggang-huayuan")
    status, page = call(http, "get", "/api/v1/requests?state=submitted", sw)
    assert status == 200 and len(page["items"]) == 1
    number = page["items"][0]["number"]
    assert page["items"][0]["category"] == "meal_delivery"
    status, body = call(http, "post", f"/api/v1/requests/{number}/transitions", sw, {"action": "assign"})
    assert status == 200 and body["state"] == "assigned" and body["team_id"] == "xianggang-huayuan-service-365"
    status, body = call(http, "post", f"/api/v1/requests/{number}/transitions", sw, {"action": "assign"})
    assert status == 200  # handing it again (to the same team) is allowed
    status, body = call(http, "post", f"/api/v1/requests/{number}/transitions", sw, {"action": "reopen"})
    assert status == 409 and body["code"] == "invalid_transition" and "不能" in body["message"]
    status, body = call(http, "post", f"/api/v1/requests/{number}/notes", sw, {"note": "已联系家属"})
    assert [e["action"] for e in body["timeline"]][-1] == "note"
    status, counts = call(http, "get", f"/api/v1/communities/{SAFE}/request-counts", sw)
    assert counts["counts"]["assigned"] == 1 and counts["counts"]["submitted"] == 0

    team = login(http, "team.xianggang-huayuan-365")
    status, page = call(http, "get", "/api/v1/requests", team)
    assert [r["number"] for r in page["items"]] == [number]
    status, body = call(http, "post", f"/api/v1/requests/{number}/transitions", team, {"action": "complete"})
    assert status == 200 and body["state"] == "done"


def test_anonymous_and_out_of_scope_callers_see_nothing(http, seed):
    WeChat(http, SAFE, seed).text("o-elder", "楼道灯坏了能否来修")
    sw = login(http, "sw.xianggang-huayuan")
    number = call(http, "get", "/api/v1/requests", sw)[1]["items"][0]["number"]
    assert http.get("/api/v1/requests").status_code == 401
    assert http.get(f"/api/v1/requests/{number}").status_code == 401
    other = login(http, "sw.jiangsu-lu")
    status, body = call(http, "get", f"/api/v1/requests/{number}", other)
    assert status == 404 and "text" not in json.dumps(body)
    status, body = call(http, "get", f"/api/v1/requests?community={SAFE}", other)
    assert status == 404
    dept = login(http, "dept.consumer-rights")
    assert call(http, "get", f"/api/v1/requests/{number}", dept)[0] == 404
    status, body = call(http, "post", f"/api/v1/requests/{number}/category", other, {"category": "legal"})
    assert status == 404


def test_bad_input_gets_a_clear_400(http, seed):
    sw = login(http, "sw.xianggang-huayuan")
    assert call(http, "get", "/api/v1/requests?state=nonsense", sw)[0] == 400
    assert call(http, "get", "/api/v1/requests?limit=0", sw)[0] == 400
    assert call(http, "get", "/api/v1/requests?cursor=%%%", sw)[0] == 400
    status, body = call(http, "post", "/api/v1/requests", sw, {"community_id": SAFE, "text": "x", "category": "ufo"})
    assert status == 400 and "未知的类别" in body["message"]
    status, body = call(http, "post", "/api/v1/requests", sw, {"community_id": SAFE, "text": "门锁坏了",
                                                               "contact": {"phone": "13800000000"}})
    assert status == 201 and body["contact"]["phone"] == "13800000000" and body["channel"] == "staff"


def test_console_reads_overdue_audit_and_directory(http, seed):
    sw = login(http, "sw.xianggang-huayuan")
    status, body = call(http, "post", "/api/v1/requests", sw, {"community_id": SAFE, "text": "门锁坏了"})
    number = body["number"]
    call(http, "post", f"/api/v1/requests/{number}/notes", sw, {"note": "已电话联系"})
    status, audit = call(http, "get", "/api/v1/audit", sw)
    assert status == 200 and [e["action"] for e in audit["items"]][:2] == ["note", "file"]
    assert call(http, "get", "/api/v1/requests/overdue", sw) == (200, {"items": []})
    status, listed = call(http, "get", "/api/v1/communities", sw)
    assert [c["id"] for c in listed["items"]] == [SAFE]
    status, detail = call(http, "get", f"/api/v1/communities/{SAFE}", sw)
    assert detail["account"]["encryption_mode"] == "safe"
    assert {t["kind"] for t in detail["teams"]} >= {"service_365", "bangdaojia", "comprehensive"}
    assert detail["canteens"][0]["id"] == "xianggang-huayuan-canteen"
    reviewer = login(http, "reviewer.jinhu-lu")
    status, listed = call(http, "get", "/api/v1/communities", reviewer)
    assert SAFE in [c["id"] for c in listed["items"]] and len(listed["items"]) > 1
    assert call(http, "get", f"/api/v1/audit?community={SAFE}", reviewer)[0] == 200
    team = login(http, "team.xianggang-huayuan-365")
    assert call(http, "get", "/api/v1/audit", team)[0] == 404
    assert call(http, "get", "/api/v1/communities/jiangsu-lu", sw)[0] == 404
