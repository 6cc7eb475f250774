"""Names, not ids: the audit log and timelines name staff (孙晓雨（社工）) and residents (居民 with the openid's
last four characters, or their registered name); the print view's title names the canteen; a completion
note the console says reaches the resident is in the message the resident receives."""
from __future__ import annotations

import json
import re
from datetime import timedelta

from chalicelib import clock
from chalicelib.domain import dates
from chalicelib.store.outbox import OutboxMessage
from tests.staff import login
from tests.wechat_driver import WeChat

COMMUNITY = "xianggang-huayuan"


def test_timelines_and_the_audit_log_name_staff_and_residents(http, seed):
    reply = WeChat(http, COMMUNITY, seed).text("o-names-abcd", "楼道灯坏了请帮忙修一下").text
    number = re.search(r"[A-Z]{2,3}-\d{8}-\d{3,4}", reply).group(0)
    sw = login(http, "sw.xianggang-huayuan")
    http.post(f"/api/v1/requests/{number}/transitions", headers=sw, body=json.dumps({"action": "accept"}))
    seen = json.loads(http.get(f"/api/v1/requests/{number}", headers=sw).body)
    assert [e["actor_name"] for e in seen["timeline"]] == ["居民（…abcd）", "孙晓雨（社工）"]
    audit = json.loads(http.get(f"/api/v1/audit?community={COMMUNITY}", headers=sw).body)["items"]
    names = {e["actor_name"] for e in audit if e["number"] == number}
    assert names == {"居民（…abcd）", "孙晓雨（社工）"}


def test_a_registered_resident_is_named_by_their_registered_name(http, seed):
    wx = WeChat(http, COMMUNITY, seed)
    wx.text("o-named", "地址 香港中路10号3单元502")
    reply = wx.text("o-named", "明天中午送一份饭").text
    number = re.search(r"[A-Z]{2,3}-\d{8}-\d{3,4}", reply).group(0)
    sw = login(http, "sw.xianggang-huayuan")
    seen = json.loads(http.get(f"/api/v1/requests/{number}", headers=sw).body)
    assert seen["timeline"][0]["actor_name"].startswith("居民")


def test_the_print_view_is_titled_with_the_canteens_name(http, seed):
    team = login(http, "team.xianggang-huayuan-365")
    day = (dates.local_date(clock.now()) + timedelta(days=1)).isoformat()
    page = http.get(f"/api/v1/canteens/{COMMUNITY}-canteen/deliveries?date={day}&meal=lunch&format=html",
                    headers=team).body.decode()
    assert f"<title>香港花园社区食堂 送餐单 {day} 午餐</title>" in page


def test_a_completion_note_reaches_the_resident(http, seed):
    reply = WeChat(http, COMMUNITY, seed).text("o-note", "楼道灯坏了请帮忙修一下").text
    number = re.search(r"[A-Z]{2,3}-\d{8}-\d{3,4}", reply).group(0)
    sw = login(http, "sw.xianggang-huayuan")
    for action in ("accept", "start"):
        assert http.post(f"/api/v1/requests/{number}/transitions", headers=sw,
                         body=json.dumps({"action": action})).status_code == 200
    answer = http.post(f"/api/v1/requests/{number}/transitions", headers=sw, body=json.dumps(
        {"action": "complete", "note": "已更换楼道灯泡，物业会定期检查"}, ensure_ascii=False))
    assert answer.status_code == 200, answer.body
    bodies = [m.body for m in OutboxMessage.scan() if m.openid == "o-note"]  # test-only read of the fake table
    assert any("已办结" in b and "处理说明：已更换楼道灯泡，物业会定期检查。" in b for b in bodies), bodies
