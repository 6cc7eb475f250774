"""便民纸条 end to end: intake, routing, states, notices, duplicates, cancel and rating, SLA sweep."""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone

import pytest
from chalice.test import Client

from app import app
from chalicelib.auth.errors import Forbidden, NotFound
from chalicelib.auth.principal import Principal
from chalicelib.services import requests as request_desk
from chalicelib.domain.dates import SHANGHAI
from chalicelib.domain.requests import DEFAULT_POLICY, InvalidTransition, classify
from chalicelib.domain.text import normalise
from chalicelib.services import sla as sla_sweep
from chalicelib.store import request_store
from chalicelib.store.outbox import OutboxMessage
from chalicelib.store.requests import HelpRequest, RequestEvent
from local.jobs import drain
from tests.wechat_driver import WeChat, message_xml, sign

SAFE = "xianggang-huayuan"
ARTICLE = "聽說社區食堂明天飯菜有梅菜扣肉、干煸蕓豆等,我們老兩口身體不便,社區能否明天派人送飯?"
SOCIAL_WORKER = Principal("sw.xianggang-huayuan", "社工", "social_worker", "shinan", "jinhu-lu", SAFE)
TEAM_365 = Principal("team.xianggang-huayuan-365", "队员", "team_member", "shinan", None, SAFE,
                     team_id="xianggang-huayuan-service-365")
OTHER_SW = Principal("sw.jiangsu-lu", "社工", "social_worker", "shinan", "jiangsu-lu", "jiangsu-lu")


@pytest.fixture
def http(seed, morning):
    with Client(app, stage_name="test") as client:
        yield client.http


ADDRESS = "地址 香港中路10号3单元502"


def only_request(openid: str) -> HelpRequest:
    [request] = list(HelpRequest.by_resident.query(f"{SAFE}#{openid}"))
    return request


@pytest.mark.parametrize("text, category", [
    (ARTICLE, "meal_delivery"),
    ("楼道的灯不亮了，能否派人来修？", "repairs"),
    ("家门口的垃圾好几天没人清理", "cleaning"),
    ("我母亲独居，能否有人定期看望", "care_visit"),
    ("请问怎么办理社保卡", "consultation"),
    ("和邻居有纠纷，想找法官调解", "legal"),
    ("网上买到假货，商家不给退款", "consumer_complaint"),
    ("最近总是失眠焦虑", "psychological"),
    ("建议小区多装几盏路灯", "suggestion"),
    ("你们好", "other"),
])
def test_classification_follows_the_keyword_table(text, category):
    assert classify(normalise(text), DEFAULT_POLICY) == category


def test_the_articles_request_becomes_a_meal_delivery_for_tomorrow(http, seed):
    wx = WeChat(http, SAFE, seed)
    answer = wx.text("o-elder", ARTICLE)
    assert answer.status == 200, answer.body
    request = only_request("o-elder")  # filed at once, though no address is on file yet
    assert request.flags == ["needs_address"] and "地址" in answer.text
    added = wx.text("o-elder", ADDRESS)  # the address given later attaches to the open request
    assert request.number in added.text
    request = only_request("o-elder")
    assert not request.flags
    tomorrow = (datetime.now(SHANGHAI) + timedelta(days=1)).date()
    assert request.category == "meal_delivery"
    assert request.team_id == "xianggang-huayuan-service-365"  # 365便民服务队
    details = json.loads(request.details)
    assert details == {"day": tomorrow.isoformat(), "meal": "lunch", "meal_asked": False, "portions": 2,
                       "canteen_id": "xianggang-huayuan-canteen", "dishes": ["梅菜扣肉", "干煸芸豆"]}
    assert request.delivery_key == f"xianggang-huayuan-canteen#{tomorrow.isoformat()}#lunch"
    assert request_store.contact(request).address == "香港中路10号3单元502"
    assert request.text == ARTICLE  # the resident's own words, as sent
    assert request.number.startswith("XG-" + datetime.now(SHANGHAI).strftime("%Y%m%d"))
    assert request.number in answer.text and "365便民服务队" in answer.text and "午餐，2 份" in answer.text
    assert [e.action for e in RequestEvent.query(request.number)] == ["file", "contact"]
    assert request_store.counts(SAFE)["submitted"] == 1


def test_the_same_need_again_points_to_the_open_request(http, seed):
    wx = WeChat(http, SAFE, seed)
    wx.text("o-elder", ADDRESS)
    first = wx.text("o-elder", "我们老两口明天中午能否送饭？")
    again = wx.text("o-elder", "明天中午能不能给我们送饭")
    number = only_request("o-elder").number
    assert number in first.text and number in again.text and "不用重复提交" in again.text
    other = wx.text("o-elder", "楼道灯坏了能否来修")  # another need is another request
    assert "编号" in other.text and HelpRequest.count() == 2


def test_assignment_and_completion_reach_the_resident_and_a_rating_closes_it(http, seed, wechat):
    wx = WeChat(http, SAFE, seed)
    wx.text("o-elder", ADDRESS)
    wx.text("o-elder", ARTICLE)
    wechat.record_interaction(wx.account["appid"], "o-elder")
    number = only_request("o-elder").number

    request_desk.move(SOCIAL_WORKER, number, "accept")
    request_desk.move(SOCIAL_WORKER, number, "assign")  # the routing table's team: 365便民服务队
    request_desk.move(TEAM_365, number, "start")
    done = request_desk.move(TEAM_365, number, "complete", note="已送达")
    assert done["state"] == "done"
    with Client(app, stage_name="test") as client:
        assert drain(client, "outbox", "outbox_worker")["handled"] == 3  # accepted, assigned, done
    sent = [c["body"]["text"]["content"] for c in wechat.calls if c["path"] == "/cgi-bin/message/custom/send"]
    assert any("已受理" in s for s in sent)
    assert any("365便民服务队" in s for s in sent)
    assert any("已办结" in s and "评价" in s for s in sent)

    rated = wx.text("o-elder", f"评价 {number.lower()} 5 很满意，谢谢社区")
    assert "谢谢您的评价" in rated.text
    closed = HelpRequest.get(number)
    assert (closed.state, closed.rating, closed.rating_comment) == ("closed", 5, "很满意,谢谢社区")  # the comment as normalised
    assert [e.action for e in RequestEvent.query(number)] == ["file", "accept", "assign", "start", "complete",
                                                             "rate"]
    counts = request_store.counts(SAFE)
    assert counts["closed"] == 1 and counts["submitted"] == 0 and counts["done"] == 0


def test_my_requests_and_cancelling_only_ones_own(http, seed):
    wx = WeChat(http, SAFE, seed)
    wx.text("o-elder", "楼道灯坏了能否来修")
    number = only_request("o-elder").number
    assert number in wx.text("o-elder", "我的纸条").text
    assert "没有找到" in wx.text("o-stranger", f"取消 {number}").text  # another resident's: not shown
    assert HelpRequest.get(number).state == "submitted"
    assert "已取消" in wx.text("o-elder", f"取消 {number}").text
    assert HelpRequest.get(number).state == "cancelled"
    assert "没有办理中" in wx.text("o-elder", "我的纸条").text
    again = wx.text("o-elder", "楼道灯坏了能否来修")  # the need is free again after cancelling
    assert "编号" in again.text and "不用重复" not in again.text


def test_invalid_transitions_are_refused_clearly(http, seed):
    WeChat(http, SAFE, seed).text("o-elder", "楼道灯坏了能否来修")
    number = only_request("o-elder").number
    with pytest.raises(InvalidTransition, match="已提交.*不能办结"):
        request_desk.move(SOCIAL_WORKER, number, "complete")
    with pytest.raises(InvalidTransition, match="原因"):
        request_desk.move(SOCIAL_WORKER, number, "reject")
    with pytest.raises(NotFound):
        request_desk.move(OTHER_SW, number, "accept")  # another community's request looks missing
    request_desk.move(SOCIAL_WORKER, number, "assign")  # repairs: the professional team
    with pytest.raises(NotFound):
        request_desk.move(TEAM_365, number, "start")  # not their team's: looks missing
    repairs_team = Principal("t.pro", "队员", "team_member", "shinan", None, SAFE,
                             team_id="xianggang-huayuan-professional")
    with pytest.raises(Forbidden):
        request_desk.move(repairs_team, number, "cancel")  # a team may only start and complete
    assert request_desk.move(repairs_team, number, "start")["state"] == "in_progress"


def test_staff_file_for_a_resident_without_wechat_and_contact_is_masked_in_views(seed):
    data = request_desk.file_for_resident(SOCIAL_WORKER, SAFE, "王大爷电话来说水管漏水", contact={
        "name": "王大爷", "phone": "13812345678", "address": "香港中路10号3单元502"})
    assert data["category"] == "repairs" and data["team_id"] == "xianggang-huayuan-professional"
    assert data["contact"]["phone"] == "13812345678"  # the social worker serves it: full
    reviewer = Principal("reviewer.jinhu-lu", "街道", "subdistrict_reviewer", "shinan", "jinhu-lu")
    seen = request_desk.view(reviewer, data["number"])
    assert seen["contact"]["phone"] == "138****5678" and "502" not in seen["contact"]["address"]
    listed = request_desk.list_for(SOCIAL_WORKER, state="submitted")
    assert [r["number"] for r in listed["items"]] == [data["number"]] and "contact" not in listed["items"][0]


def test_recategorise_reroutes_and_notes_join_the_timeline(seed):
    data = request_desk.file_for_resident(SOCIAL_WORKER, SAFE, "想咨询一下")
    assert data["category"] == "consultation"
    changed = request_desk.recategorise(SOCIAL_WORKER, data["number"], "legal", note="其实是遗产纠纷")
    assert changed["category"] == "legal" and changed["department_id"] == "judge-zhangyu"
    noted = request_desk.add_note(SOCIAL_WORKER, data["number"], "已电话联系")
    assert [e["action"] for e in noted["timeline"]] == ["file", "recategorise", "note"]


def test_paging_walks_every_request_once(seed):
    numbers = {request_desk.file_for_resident(SOCIAL_WORKER, SAFE, f"第{i}件事需要帮忙")["number"]
               for i in range(7)}
    seen, cursor = [], None
    while True:
        page = request_desk.list_for(SOCIAL_WORKER, limit=3, cursor=cursor)
        seen += [r["number"] for r in page["items"]]
        cursor = page["cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(numbers) and len(seen) == 7


def test_sla_sweep_escalates_to_the_director_then_the_subdistrict_once(seed):
    data = request_desk.file_for_resident(SOCIAL_WORKER, SAFE, "楼道灯坏了")  # repairs: 48 hours
    created = datetime.now(timezone.utc)
    assert sla_sweep.sweep(created + timedelta(hours=47)) == {"escalated": 0, "skipped": 0}
    assert sla_sweep.sweep(created + timedelta(hours=49))["escalated"] == 1
    assert sla_sweep.sweep(created + timedelta(hours=49))["escalated"] == 0  # idempotent
    assert HelpRequest.get(data["number"]).escalation == 1
    assert sla_sweep.sweep(created + timedelta(hours=74))["escalated"] == 1
    assert sla_sweep.sweep(created + timedelta(hours=200))["escalated"] == 0
    request = HelpRequest.get(data["number"])
    assert request.escalation == 2 and request.escalate_at is None
    notes = [e.note for e in RequestEvent.query(data["number"]) if e.action == "escalate"]
    assert notes == ["超时未办结，已上报社区主任", "超时未办结，已上报街道"]
    overdue = request_store.overdue("shinan", created + timedelta(hours=49), community_key=SAFE)
    assert [r.number for r in overdue] == [data["number"]]


@pytest.mark.parametrize("text, expected", [
    ("", "没看明白"), ("🙏🙏🙏", "没看明白"), ("。。。", "没看明白"),
])
def test_empty_or_emoji_only_get_a_clear_answer_and_file_nothing(http, seed, text, expected):
    answer = WeChat(http, SAFE, seed).text("o-elder", text)
    assert expected in answer.text and HelpRequest.count() == 0


def test_a_very_long_text_is_kept_whole(http, seed):
    text = "楼道灯坏了。" + "请尽快来修理，谢谢！" * 500
    answer = WeChat(http, SAFE, seed).text("o-elder", text)
    assert "编号" in answer.text
    assert only_request("o-elder").text == text[:5000]


def test_a_reopened_request_is_back_on_the_clock_and_takes_its_places_again(http, seed):
    from chalicelib.store.counters import Counter

    wx = WeChat(http, SAFE, seed)
    wx.text("o-elder", ADDRESS)
    wx.text("o-elder", "我们老两口明天中午能否送饭？")
    request = only_request("o-elder")
    places = f"capacity#{request.delivery_key}"
    assert Counter.get(places).value == 2
    request_desk.move(SOCIAL_WORKER, request.number, "reject", note="明天食堂不开")
    assert Counter.get(places).value == 0 and HelpRequest.get(request.number).sla_open is None
    request_desk.move(SOCIAL_WORKER, request.number, "reopen", note="食堂照常开")
    reopened = HelpRequest.get(request.number)
    assert Counter.get(places).value == 2
    assert reopened.state == "reopened" and reopened.sla_open == "shinan" and reopened.escalation == 0
    assert reopened.escalate_at == reopened.due_at and reopened.due_at > reopened.created_at
    later = reopened.due_at + timedelta(minutes=1)
    assert [r.number for r in request_store.overdue("shinan", later, community_key=SAFE)] == [request.number]
    assert sla_sweep.sweep(later)["escalated"] == 1


def test_a_registered_households_contact_reaches_staff_on_any_request(http, seed):
    wx = WeChat(http, SAFE, seed)
    wx.text("o-lamp", "地址 香港中路10号3单元502")
    wx.text("o-lamp", "电话 13812345678")
    wx.text("o-lamp", "楼道灯坏了能否来修")
    request = only_request("o-lamp")
    seen = request_desk.view(SOCIAL_WORKER, request.number)  # the social worker serves it: full contact
    assert seen["contact"]["address"] == "香港中路10号3单元502" and seen["contact"]["phone"] == "13812345678"
    reviewer = Principal("reviewer.jinhu-lu", "审核", "subdistrict_reviewer", "shinan", "jinhu-lu")
    masked = request_desk.view(reviewer, request.number)
    assert masked["contact"]["phone"] == "138****5678" and "502" not in masked["contact"]["address"]
