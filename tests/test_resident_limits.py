"""Residents' 便民纸条 limits: per openid in chat, per openid and session on H5, per district; answered
kindly; staff block and unblock a sender, audited."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from chalice.test import Client

from app import app
from chalicelib import clock
from chalicelib.domain import limits
from chalicelib.store.policies import RequestPolicy
from chalicelib.store.requests import HelpRequest, RequestEvent
from tests.test_h5 import SAFE, cookie_header, csrf_of, post, sign_in
from tests.wechat_driver import WeChat

NEEDS = ["{n}号楼楼道灯坏了", "{n}号楼下水道堵了", "{n}号楼门口有积水", "{n}号楼电梯不动了"]


def need(n: int) -> str:
    return NEEDS[n % len(NEEDS)].format(n=n)


@pytest.fixture
def http(seed, wechat, morning):
    with Client(app, stage_name="test") as client:
        yield client.http


def later(hours: float) -> None:
    moment = clock.now() + timedelta(hours=hours)
    clock.set_clock(moment)


def test_the_defaults_are_ten_an_hour_and_thirty_a_day():
    assert (limits.DEFAULT_RESIDENT_LIMITS.per_hour, limits.DEFAULT_RESIDENT_LIMITS.per_day) == (10, 30)
    assert limits.ResidentLimits.from_policy({"per_hour": 3, "per_day": "many"}) == limits.ResidentLimits(3, 30)


def test_a_chat_flood_is_answered_kindly_after_ten_an_hour(http, seed):
    wx = WeChat(http, SAFE, seed)
    answers = [wx.text("o-flood", need(n)).text for n in range(14)]
    assert all("编号" in a for a in answers[:10])
    for refused in answers[10:]:
        assert "编号" not in refused and "每小时最多10张" in refused and "我的纸条" in refused
    assert HelpRequest.count() == 10
    assert "编号" in wx.text("o-neighbour", need(99)).text  # another resident is not affected
    assert "便民纸条" in wx.text("o-flood", "帮助").text  # and the flooder can still talk to the account
    later(1.01)
    assert "编号" in wx.text("o-flood", need(20)).text  # the next hour opens again


def test_limits_are_set_per_district_and_the_day_counts_too(http, seed):
    RequestPolicy("district#shinan", policy=json.dumps({"resident_limits": {"per_hour": 2, "per_day": 3}})).save()
    wx = WeChat(http, SAFE, seed)
    first = [wx.text("o-daily", need(n)).text for n in range(3)]
    assert ["编号" in a for a in first] == [True, True, False] and "每天最多3张" in first[2]
    later(1.01)
    assert "编号" in wx.text("o-daily", need(10)).text
    assert "每天最多3张" in wx.text("o-daily", need(11)).text  # the third of the day was the last
    assert HelpRequest.count() == 3


def test_an_h5_flood_is_answered_after_the_limit(http, seed):
    session = sign_in(http, "o-h5-flooder")
    csrf = csrf_of(http.get(f"/h5/{SAFE}/request", headers=cookie_header("h5s", session)))
    statuses = [post(http, "request", session, {"csrf": csrf, "text": need(n)}).status_code for n in range(12)]
    assert statuses == [200] * 10 + [429] * 2
    refused = post(http, "request", session, {"csrf": csrf, "text": need(50)})
    assert refused.status_code == 429 and "每小时最多10张" in refused.body.decode()
    assert HelpRequest.count() == 10
    # The same resident in chat shares the openid's count.
    assert "每小时最多10张" in WeChat(http, SAFE, seed).text("o-h5-flooder", need(60)).text


def test_staff_block_and_unblock_a_sender_audited(http, seed):
    wx = WeChat(http, SAFE, seed)
    assert "编号" in wx.text("o-abuser", need(1)).text
    [request] = list(HelpRequest.by_resident.query(f"{SAFE}#o-abuser"))
    login = json.loads(http.post("/api/v1/auth/login", headers={"Content-Type": "application/json"}, body=json.dumps(
        {"username": "director.xianggang-huayuan", "password": "Demo#2026"})).body)
    staff = {"Authorization": f"Bearer {login['token']}", "Content-Type": "application/json"}

    def act(path, body):
        answer = http.post(path, headers=staff, body=json.dumps(body, ensure_ascii=False))
        return answer.status_code, json.loads(answer.body)

    assert act("/api/v1/residents/block", {"number": request.number})[1]["code"] == "invalid_field"  # no reason
    assert act("/api/v1/residents/block", {"number": request.number, "reason": "x" * 201})[0] == 400
    assert act("/api/v1/residents/block", {"number": request.number, "reason": "一小时内重复提交骚扰内容"}) == \
        (200, {"number": request.number, "blocked": True})
    refused = wx.text("o-abuser", need(2)).text
    assert refused == limits.BLOCKED_REPLY and HelpRequest.count() == 1
    assert "便民纸条" in wx.text("o-abuser", "帮助").text
    assert "编号" in wx.text("o-other", need(3)).text

    assert act("/api/v1/residents/unblock", {"number": request.number, "reason": "已电话沟通"})[0] == 200
    assert "编号" in wx.text("o-abuser", need(4)).text
    events = [(e.action, e.actor_id, e.note) for e in RequestEvent.query(request.number)]
    assert ("block_sender", "director.xianggang-huayuan", "一小时内重复提交骚扰内容") in events
    assert ("unblock_sender", "director.xianggang-huayuan", "已电话沟通") in events
    audit = json.loads(http.get(f"/api/v1/audit?community={SAFE}", headers=staff).body)
    assert any(item["action"] == "block_sender" for item in audit["items"])
