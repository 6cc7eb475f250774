"""Alerts to staff in WeChat (工作提醒): binding by a one-time code sent in chat, choosing what to hear, the
digest per staff member and window (a busy window sends one message), through the outbox to the emulator."""
from __future__ import annotations

import json
import re
from datetime import timedelta

from chalicelib import clock
from chalicelib.domain import staff_alerts as rules
from chalicelib.services import notices, staff_alerts
from chalicelib.store.accounts import Account
from chalicelib.store.outbox import OutboxMessage
from chalicelib.store.posts import StaffNotice
from chalicelib.store.staff import StaffUser
from tests.staff import login
from tests.wechat_driver import WeChat

COMMUNITY = "xianggang-huayuan"
SW_OPENID = "o-staff-sun-xiaoyu"


def _bind(http, seed, wechat, username="sw.xianggang-huayuan", account=COMMUNITY, openid=SW_OPENID):
    headers = login(http, username)
    answer = http.post("/api/v1/me/alerts/code", headers=headers, body="{}")
    assert answer.status_code == 201, answer.body
    code = json.loads(answer.body)
    assert code["message"] == f"绑定 {code['code']}" and COMMUNITY in [a["id"] for a in code["accounts"]]
    reply = WeChat(http, account, seed).text(openid, code["message"].lower()).text  # typed in any case
    name = StaffUser.get(username).display_name
    assert f"已绑定社区工作台账号：{name}（" in reply, reply
    wechat.record_interaction(Account.get(account).appid, openid)  # the staff member just wrote to the account
    return headers


def _digest_and_deliver(minutes: int = 12):
    clock.set_clock(clock.now() + timedelta(minutes=minutes))
    result = staff_alerts.digest()
    for item in OutboxMessage.by_state.query("pending"):
        if item.purpose == staff_alerts.PURPOSE:
            notices.deliver({"outbox_id": item.outbox_id})
    return result


def _staff_messages(wechat, openid=SW_OPENID):
    return [c for c in wechat.calls if c["path"] == "/cgi-bin/message/custom/send"
            and c["body"].get("touser") == openid and c["response"].get("errcode", 0) == 0]


def test_a_bound_social_worker_gets_one_digest_for_a_busy_window_in_the_emulator(http, seed, wechat):
    headers = _bind(http, seed, wechat)
    user = StaffUser.get("sw.xianggang-huayuan")
    assert (user.wechat_account_id, user.wechat_openid) == (COMMUNITY, SW_OPENID)
    resident = WeChat(http, COMMUNITY, seed)
    numbers = []
    for i, text in enumerate(("楼道灯坏了请帮忙修一下", "能否派人上门量血压", "请帮忙疏通下水道")):
        reply = resident.text(f"o-busy-{i}", text).text
        numbers.append(re.search(r"[A-Z]{2,3}-\d{8}-\d{3,4}", reply).group(0))
    result = _digest_and_deliver()
    assert result["messages"] >= 1
    [message] = _staff_messages(wechat)  # three requests, one message
    logged = [json.loads(line) for line in wechat.log_path.read_text(encoding="utf-8").splitlines()]
    assert any(c["path"] == "/cgi-bin/message/custom/send" and c["body"].get("touser") == SW_OPENID
               and numbers[0] in c["body"]["text"]["content"] for c in logged)  # in the emulator's log file
    content = message["body"]["text"]["content"]
    assert content.startswith("孙晓雨，") and "【本社区的新纸条 3】" in content
    assert all(n in content for n in numbers)
    # the console badge has it too, and a second run sends nothing more (idempotent)
    assert any(n.notice_id.endswith("#alert") for n in StaffNotice.query("sw.xianggang-huayuan"))
    again = staff_alerts.digest()
    assert again["messages"] == 0 and len(_staff_messages(wechat)) == 1
    seen = json.loads(http.get("/api/v1/me/alerts", headers=headers).body)
    assert seen["bound"] and seen["account_id"] == COMMUNITY and seen["notices"]


def test_choosing_kinds_and_unbinding_in_one_click_stop_the_messages(http, seed, wechat):
    headers = _bind(http, seed, wechat)
    answer = http.put("/api/v1/me/alerts", headers=headers, body=json.dumps({"alert_kinds": ["escalation"]}))
    assert answer.status_code == 200 and json.loads(answer.body)["alert_kinds"] == ["escalation"]
    WeChat(http, COMMUNITY, seed).text("o-kinds", "楼道灯坏了请帮忙修一下")
    _digest_and_deliver()
    assert _staff_messages(wechat) == []  # not a kind chosen
    http.put("/api/v1/me/alerts", headers=headers, body=json.dumps({"alert_kinds": ["new_request"]}))
    answer = http.delete("/api/v1/me/alerts/binding", headers=headers)
    assert answer.status_code == 200 and json.loads(answer.body)["bound"] is False
    WeChat(http, COMMUNITY, seed).text("o-kinds-2", "能否派人上门量血压")
    _digest_and_deliver()
    assert _staff_messages(wechat) == []
    bad = http.put("/api/v1/me/alerts", headers=headers, body=json.dumps({"alert_kinds": ["gossip"]}))
    assert bad.status_code == 400


def test_a_wrong_or_used_code_binds_nobody(http, seed, wechat):
    reply = WeChat(http, COMMUNITY, seed).text("o-stranger", "绑定 ABCDEFGH").text
    assert "绑定码无效或已过期" in reply
    headers = login(http, "sw.xianggang-huayuan")
    code = json.loads(http.post("/api/v1/me/alerts/code", headers=headers, body="{}").body)["message"]
    WeChat(http, COMMUNITY, seed).text(SW_OPENID, code)
    reply = WeChat(http, "wei-shinan", seed).text("o-thief", code).text  # used once already
    assert "绑定码无效或已过期" in reply
    assert StaffUser.get("sw.xianggang-huayuan").wechat_openid == SW_OPENID


def test_assignment_reaches_the_team_and_a_post_for_review_reaches_the_director(http, seed, wechat):
    _bind(http, seed, wechat, "team.xianggang-huayuan-365", openid="o-team-liu")
    sw = login(http, "sw.xianggang-huayuan")
    filed = json.loads(http.post("/api/v1/requests", headers=sw, body=json.dumps(
        {"community_id": COMMUNITY, "text": "明天中午送一份饭"}, ensure_ascii=False)).body)
    assert filed["team_id"] == "xianggang-huayuan-service-365"
    _bind_director = login(http, "director.xianggang-huayuan")
    code = json.loads(http.post("/api/v1/me/alerts/code", headers=_bind_director, body="{}").body)["message"]
    WeChat(http, "wei-shinan", seed).text("o-director-dong", code)
    wechat.record_interaction(Account.get("wei-shinan").appid, "o-director-dong")
    post = json.loads(http.post("/api/v1/posts", headers=sw, body=json.dumps(
        {"topic": "社区提醒稿件", "planned_day": (clock.now() + timedelta(days=2)).date().isoformat(),
         "articles": [{"title": "社区提醒稿件", "content": "<p>正文</p>", "cover_media_id": "demo-cover"}]},
        ensure_ascii=False)).body)
    assert http.post(f"/api/v1/posts/{post['post_id']}/steps", headers=sw,
                     body=json.dumps({"action": "submit"})).status_code == 200
    _digest_and_deliver()
    [team_message] = _staff_messages(wechat, "o-team-liu")
    assert filed["number"] in team_message["body"]["text"]["content"]
    assert "派给我的队伍或部门的纸条" in team_message["body"]["text"]["content"]
    [director_message] = _staff_messages(wechat, "o-director-dong")
    assert "社区提醒稿件" in director_message["body"]["text"]["content"]
    assert "等我审核的稿件" in director_message["body"]["text"]["content"]


def test_windows_and_digest_text():
    from datetime import datetime, timezone

    now = datetime(2026, 12, 1, 1, 25, tzinfo=timezone.utc)
    due = rules.windows_due(now)
    assert due[-1] == datetime(2026, 12, 1, 1, 10, tzinfo=timezone.utc)  # 01:20 has not ended and settled
    text = rules.digest_text("孙晓雨", {"new_request": [f"新纸条 {i}" for i in range(8)]}, due[-1])
    assert "09:10–09:20" in text and "【本社区的新纸条 8】" in text and "另有 3 条" in text


def test_outside_the_chat_window_the_digest_goes_as_a_template_message_on_a_service_account(http, seed, wechat):
    headers = login(http, "sw.xianggang-huayuan")
    code = json.loads(http.post("/api/v1/me/alerts/code", headers=headers, body="{}").body)["message"]
    WeChat(http, "wei-shinan", seed).text("o-sun-on-weishinan", code)  # no interaction recorded: window shut
    WeChat(http, COMMUNITY, seed).text("o-template", "楼道灯坏了请帮忙修一下")
    _digest_and_deliver()
    sent = [c for c in wechat.calls if c["path"] == "/cgi-bin/message/template/send"
            and c["body"].get("touser") == "o-sun-on-weishinan" and c["response"].get("errcode", 0) == 0]
    assert len(sent) == 1, [c["path"] for c in wechat.calls]
    data = sent[0]["body"]["data"]
    assert data["keyword2"]["value"] == "1" and data["keyword1"]["value"] == "新纸条1条"
    assert data["remark"]["value"] == "孙晓雨"
