"""Community activities (报名社区活动): staff create them; residents list, sign up (also for an elder),
see and cancel in chat and on the H5 page; places by conditional writes, a waiting list that moves up
on cancellation; reminders the day before through the outbox, once; staff list, attendance, export."""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from chalicelib.domain.activities import ActivityView, SignupRefused, check_activity, plan_signup
from chalicelib.domain.dates import SHANGHAI
from chalicelib.domain.errors import BadRequest
from chalicelib.store.activities import Activity, Signup
from chalicelib.store.counters import Counter
from chalicelib.store.outbox import OutboxMessage
from tests.staff import login
from tests.wechat_driver import WeChat, message_xml, sign

SAFE = "xianggang-huayuan"
PHONE_CLASS = "act-demo-phone-1"  # the demo's 智能手机培训, tomorrow 09:30 in 香港花园社区


def set_capacity(activity_id: str, capacity: int) -> None:
    a = Activity.get(activity_id)
    a.capacity = capacity
    a.save()


def signups(activity_id: str) -> dict[str, str]:
    return {s.signup_key.split("#")[1] + ("" if s.person == "本人" else "/" + s.person): s.state
            for s in Signup.query(activity_id)}


def test_residents_list_sign_up_see_and_cancel_in_chat(http, seed):
    wx = WeChat(http, SAFE, seed)
    listed = wx.text("o-act-1", "活动").text
    assert "1. 智能手机培训：微信视频通话（面向老年人）" in listed and "余20个名额" in listed
    assert "市南区老年人智能手机公益大讲堂" in listed  # the district's own activity shows on every account
    assert "报名成功" in wx.text("o-act-1", "报名 1").text
    assert "已经报过" in wx.text("o-act-1", "报名 智能手机培训：微信").text
    relative = wx.text("o-act-1", "帮老人报名 1 张大爷").text
    assert "报名成功（为张大爷报名）" in relative
    assert "需要本人报名" in wx.text("o-act-1", "帮老人报名 亲子海滩 李奶奶").text
    mine = wx.text("o-act-1", "我的报名").text
    assert "智能手机培训：微信视频通话：" in mine and "（张大爷）" in mine and "已报名" in mine
    assert "已取消“智能手机培训：微信视频通话”的报名" in wx.text("o-act-1", "取消报名 智能手机").text
    assert signups(PHONE_CLASS) == {"o-act-1": "cancelled", "o-act-1/张大爷": "confirmed"}
    assert int(Counter.get("activity#act-demo-phone-1#places").value) == 1
    assert "没有找到活动" in wx.text("o-act-1", "报名 99").text


def test_the_last_place_then_the_waiting_list_moves_up_on_cancellation(http, seed):
    set_capacity(PHONE_CLASS, 1)
    wx = WeChat(http, SAFE, seed)
    assert "报名成功" in wx.text("o-first", "报名 1").text
    full = wx.text("o-second", "报名 1").text
    assert "报满" in full and "候补" in full  # a clear answer, and a place on the waiting list
    wx.text("o-third", "报名 1")
    assert "候补第1位" in wx.text("o-second", "我的报名").text
    assert "候补第2位" in wx.text("o-third", "我的报名").text
    assert "已取消" in wx.text("o-first", "取消报名 1").text
    assert signups(PHONE_CLASS) == {"o-first": "cancelled", "o-second": "confirmed", "o-third": "waiting"}
    assert int(Counter.get("activity#act-demo-phone-1#places").value) == 1
    told = [m for m in OutboxMessage.scan() if m.openid == "o-second"]
    assert len(told) == 1 and "从候补转为正式报名" in told[0].body
    assert "候补第1位" in wx.text("o-third", "我的报名").text


def test_two_residents_for_the_last_place_at_once(moto_server, seed_on_server, morning):
    """Eight residents at once for three places: three confirmed, five on the waiting list, none lost."""
    from xml.etree import ElementTree as ET

    from chalicelib.services import chat as gateway

    set_capacity(PHONE_CLASS, 3)
    wx = WeChat(None, SAFE, seed_on_server)
    residents = [f"o-race-{i}" for i in range(8)]
    barrier = threading.Barrier(len(residents))

    def deliver(openid: str) -> str:
        fields = wx.fields(openid, "text", Content="报名 1")
        ts, nonce = str(int(time.time())), f"n{openid}"
        encrypted = ET.fromstring(wx.crypto().encrypt_message(message_xml(fields), nonce, ts)).findtext("Encrypt")
        query = {"signature": sign(wx.token, ts, nonce), "timestamp": ts, "nonce": nonce, "encrypt_type": "aes",
                 "msg_signature": sign(wx.token, ts, nonce, encrypted)}
        barrier.wait()
        answer = gateway.receive(SAFE, query, f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode())
        root = ET.fromstring(answer.body)
        opened = wx.crypto().decrypt_message(answer.body, root.findtext("MsgSignature"), root.findtext("TimeStamp"),
                                             root.findtext("Nonce"))
        return ET.fromstring(opened).findtext("Content")

    with ThreadPoolExecutor(len(residents)) as pool:
        answers = list(pool.map(deliver, residents))
    assert sum("报名成功" in a for a in answers) == 3, answers
    assert sum("候补" in a for a in answers) == 5, answers
    states = signups(PHONE_CLASS)
    assert sorted(states.values()) == ["confirmed"] * 3 + ["waiting"] * 5
    assert int(Counter.get("activity#act-demo-phone-1#places").value) == 3


def test_reminders_go_once_the_day_before_through_the_outbox(http, seed):
    wx = WeChat(http, SAFE, seed)
    wx.text("o-remind-1", "报名 1")
    wx.text("o-remind-2", "帮老人报名 1 王奶奶")
    wx.text("o-remind-3", "报名 2")  # the next class is later: no reminder today
    from chalicelib.jobs import activity_reminders

    first = activity_reminders.run()
    again = activity_reminders.run()
    assert first["reminded"] == 2 and again == {**first, "reminded": 0, "already": 2}
    reminders = [m for m in OutboxMessage.scan() if m.purpose == "activity_reminder"]
    assert sorted(m.openid for m in reminders) == ["o-remind-1", "o-remind-2"]
    assert any("（王奶奶）" in m.body and "智能手机培训" in m.body for m in reminders)


def test_staff_create_list_mark_attendance_and_export(http, seed):
    social = login(http, "sw.xianggang-huayuan")
    day = (datetime.now(SHANGHAI) + timedelta(days=6)).date().isoformat()
    body = {"title": "智能手机培训：网上购物", "starts_at": f"{day}T09:30", "place": "社区活动室", "capacity": 2,
            "audience": "老年人", "relatives_allowed": True}
    created = http.post("/api/v1/activities", headers=social, body=json.dumps(body, ensure_ascii=False))
    assert created.status_code == 201, created.body
    activity_id = json.loads(created.body)["id"]
    bad = http.post("/api/v1/activities", headers=social, body=json.dumps({"title": "", "capacity": 0}))
    assert bad.status_code == 400 and "请填写活动名称" in json.loads(bad.body)["message"]
    listed = json.loads(http.get("/api/v1/activities", headers=social).body)["items"]
    assert activity_id in {a["id"] for a in listed}
    wx = WeChat(http, SAFE, seed)
    assert "网上购物" in wx.text("o-staff-1", "活动").text
    assert "报名成功" in wx.text("o-staff-1", "报名 网上购物").text
    rows = json.loads(http.get(f"/api/v1/activities/{activity_id}/signups", headers=social).body)["items"]
    assert len(rows) == 1 and rows[0]["state"] == "confirmed" and "o-staff-1" not in json.dumps(rows)  # masked
    marked = http.post(f"/api/v1/activities/{activity_id}/attendance", headers=social,
                       body=json.dumps({"key": rows[0]["key"], "attended": True}))
    assert marked.status_code == 200
    csv = http.get(f"/api/v1/activities/{activity_id}/signups?format=csv", headers=social)
    assert csv.headers["Content-Type"].startswith("text/csv") and "已到" in csv.body.decode("utf-8-sig")
    # another community's staff do not see it; a reviewer may not manage activities
    other = login(http, "sw.jiangsu-lu")
    assert http.get(f"/api/v1/activities/{activity_id}/signups", headers=other).status_code == 404
    reviewer = login(http, "reviewer.jinhu-lu")
    assert http.get(f"/api/v1/activities/{activity_id}/signups", headers=reviewer).status_code == 403


def test_activity_checks_and_sign_up_rules():
    now = datetime(2026, 12, 1, 2, 0, tzinfo=SHANGHAI)
    with pytest.raises(BadRequest) as caught:
        check_activity({"title": "x", "place": "y", "starts_at": "2026-11-30T09:00", "capacity": 5}, now)
    assert "活动时间应在现在之后" in str(caught.value)
    fields = check_activity({"title": "课", "place": "室", "starts_at": "2026-12-03T09:30",
                             "signup_deadline": "2026-12-02T18:00", "capacity": 5, "audience": "老年人"}, now)
    assert fields["starts_at"].utcoffset() == timedelta(0) and fields["starts_at"].hour == 1
    activity = ActivityView("a", "shinan", SAFE, "课", fields["starts_at"], "室", 5, "老年人",
                            fields["signup_deadline"], False)
    with pytest.raises(SignupRefused, match="截止"):
        plan_signup(activity, SAFE, "o", "本人", None, fields["signup_deadline"])
    with pytest.raises(SignupRefused, match="本人报名"):
        plan_signup(activity, SAFE, "o", "张大爷", None, now, relative=True)


def test_the_h5_page_lists_and_signs_up(http, seed):
    from chalicelib.web import session as h5_session

    token, session = h5_session.issue(SAFE, "o-h5-act")
    cookie = {"Cookie": f"h5s={token}"}
    page = http.get(f"/h5/{SAFE}/activities", headers=cookie)
    assert page.status_code == 200 and "智能手机培训：微信视频通话" in page.body.decode()
    answer = http.post(f"/h5/{SAFE}/activities", headers={**cookie, "Content-Type": "application/x-www-form-urlencoded"},
                       body=f"csrf={session.csrf}&activity={PHONE_CLASS}&do=signup")
    assert answer.status_code == 200 and "报名成功" in answer.body.decode()
    assert signups(PHONE_CLASS) == {"o-h5-act": "confirmed"}
    assert http.get(f"/h5/{SAFE}/activities").status_code == 302  # no session: sign in through WeChat first
