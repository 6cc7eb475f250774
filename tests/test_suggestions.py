"""Suggestions (意见建议): `建议 …` or the H5 form goes to the director's queue — not a 便民纸条 — the
answer reaches the resident, and the month's counts are kept for the monthly bulletin."""
from __future__ import annotations

import json


from chalicelib.store.outbox import OutboxMessage
from chalicelib.store.requests import HelpRequest
from chalicelib.store.suggestions import Suggestion
from tests.staff import login
from tests.wechat_driver import WeChat

SAFE = "xianggang-huayuan"


def test_a_suggestion_goes_to_the_director_is_answered_and_counted(http, seed):
    wx = WeChat(http, SAFE, seed)
    reply = wx.text("o-sug-1", "建议 小区门口增加一个公交站牌").text
    assert "已收到您的建议" in reply and "JY-XG-" in reply
    assert "已收到您的建议" in wx.text("o-sug-2", "我有个建议：晚上路灯太暗了，希望多装几盏").text
    assert "请回复“建议”加上您的想法" in wx.text("o-sug-3", "给社区提意见建议").text
    assert HelpRequest.count() == 0  # not a 便民纸条: no team, no time limit
    director = login(http, "director.xianggang-huayuan")
    queue = json.loads(http.get("/api/v1/suggestions?state=open", headers=director).body)["items"]
    assert {s["text"] for s in queue} == {"小区门口增加一个公交站牌", "我有个建议：晚上路灯太暗了，希望多装几盏"}
    first = next(s for s in queue if "公交" in s["text"])
    answered = http.post(f"/api/v1/suggestions/{first['id']}/answer", headers=director,
                         body=json.dumps({"answer": "已联系公交公司，下月起增设站牌。"}, ensure_ascii=False))
    assert answered.status_code == 200 and json.loads(answered.body)["state"] == "answered"
    again = http.post(f"/api/v1/suggestions/{first['id']}/answer", headers=director,
                      body=json.dumps({"answer": "再答一次"}, ensure_ascii=False))
    assert again.status_code == 409
    told = [m for m in OutboxMessage.scan() if m.openid == "o-sug-1"]
    assert len(told) == 1 and "已联系公交公司" in told[0].body
    counts = json.loads(http.get("/api/v1/suggestions/counts", headers=director).body)
    assert (counts["filed"], counts["answered"]) == (2, 1)
    # scope: another community's director sees none of it; a social worker does not answer
    other = login(http, "director.jiangsu-lu")
    assert http.get("/api/v1/suggestions?community=xianggang-huayuan", headers=other).status_code == 404
    assert http.post(f"/api/v1/suggestions/{first['id']}/answer", headers=other,
                     body=json.dumps({"answer": "x"})).status_code == 404
    social = login(http, "sw.xianggang-huayuan")
    assert http.get("/api/v1/suggestions", headers=social).status_code == 403


def test_the_h5_form_files_the_same_suggestion(http, seed):
    from chalicelib.web import session as h5_session

    token, session = h5_session.issue(SAFE, "o-sug-h5")
    headers = {"Cookie": f"h5s={token}", "Content-Type": "application/x-www-form-urlencoded"}
    assert http.get(f"/h5/{SAFE}/suggestion", headers={"Cookie": f"h5s={token}"}).status_code == 200
    short = http.post(f"/h5/{SAFE}/suggestion", headers=headers, body=f"csrf={session.csrf}&text=%E5%A5%BD")
    assert short.status_code == 400 and "太短" in short.body.decode()
    from urllib.parse import quote

    answer = http.post(f"/h5/{SAFE}/suggestion", headers=headers,
                       body=f"csrf={session.csrf}&text={quote('希望社区多组织老年人活动')}")
    assert answer.status_code == 200 and "已收到您的建议" in answer.body.decode()
    [s] = list(Suggestion.scan())
    assert s.channel == "h5" and s.openid == "o-sug-h5" and s.community_id == SAFE
