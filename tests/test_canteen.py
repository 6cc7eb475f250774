"""Community canteens: the date resolver, menus in residents' words, meal orders (cut-off, capacity race,
address), the household profile, the delivery list, and the public menu."""
from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import pytest
from chalice.test import Client

from app import app
from chalicelib.domain.canteen import CanteenView, OrderRefused, check_order
from chalicelib.domain.dates import SHANGHAI, resolve_day
from chalicelib.domain.text import normalise
from chalicelib.store.canteens import Canteen
from chalicelib.store.requests import HelpRequest
from chalicelib.store.residents import Profile, Resident
from tests.staff import login
from tests.wechat_driver import WeChat, message_xml, sign

SAFE = "xianggang-huayuan"
CANTEEN = "xianggang-huayuan-canteen"
FRIDAY = date(2026, 11, 27)
SUNDAY = date(2026, 11, 29)

# (asked on, phrase, expected day) — phrases as residents type them, traditional characters included.
PHRASES = [
    (FRIDAY, "今天中午吃什么", date(2026, 11, 27)), (FRIDAY, "今日菜單", date(2026, 11, 27)),
    (FRIDAY, "明天食堂有什么菜", date(2026, 11, 28)), (FRIDAY, "明天食堂有什麼菜", date(2026, 11, 28)),
    (FRIDAY, "明日有沒有餃子", date(2026, 11, 28)), (FRIDAY, "后天有没有饺子", date(2026, 11, 29)),
    (FRIDAY, "後天的菜", date(2026, 11, 29)), (FRIDAY, "大后天吃什么", date(2026, 11, 30)),
    (FRIDAY, "大後天", date(2026, 11, 30)), (FRIDAY, "周一的菜单", date(2026, 11, 30)),
    (FRIDAY, "周三的菜单", date(2026, 12, 2)), (FRIDAY, "週三的菜單", date(2026, 12, 2)),
    (FRIDAY, "周五吃什么", date(2026, 11, 27)), (FRIDAY, "周六", date(2026, 11, 28)),
    (FRIDAY, "周日", date(2026, 11, 29)), (FRIDAY, "周天", date(2026, 11, 29)),
    (FRIDAY, "星期一", date(2026, 11, 30)), (FRIDAY, "星期天有饺子吗", date(2026, 11, 29)),
    (FRIDAY, "星期日", date(2026, 11, 29)), (FRIDAY, "礼拜二", date(2026, 12, 1)),
    (FRIDAY, "禮拜四", date(2026, 12, 3)), (FRIDAY, "下周三", date(2026, 12, 2)),
    (FRIDAY, "下週一", date(2026, 11, 30)), (FRIDAY, "下个星期五", date(2026, 12, 4)),
    (FRIDAY, "本周五", date(2026, 11, 27)), (FRIDAY, "这周三", date(2026, 11, 25)),
    (FRIDAY, "11月28日", date(2026, 11, 28)), (FRIDAY, "11月28号", date(2026, 11, 28)),
    (FRIDAY, "十一月二十八日", date(2026, 11, 28)), (FRIDAY, "28号", date(2026, 11, 28)),
    (FRIDAY, "二十八号", date(2026, 11, 28)), (FRIDAY, "12月1日", date(2026, 12, 1)),
    (FRIDAY, "1号", date(2026, 12, 1)), (FRIDAY, "27号", date(2026, 11, 27)),
    (FRIDAY, "26号", date(2026, 12, 26)), (FRIDAY, "31号", date(2026, 12, 31)),
    (SUNDAY, "周日的菜单", date(2026, 11, 29)), (SUNDAY, "星期天", date(2026, 11, 29)),
    (SUNDAY, "下周日", date(2026, 12, 6)), (SUNDAY, "明天", date(2026, 11, 30)),
    (date(2026, 12, 31), "明天", date(2027, 1, 1)), (date(2026, 12, 31), "1月2日", date(2027, 1, 2)),
    (date(2026, 12, 31), "2号", date(2027, 1, 2)), (date(2026, 12, 30), "后天", date(2027, 1, 1)),
    (date(2027, 1, 31), "明天", date(2027, 2, 1)), (date(2027, 1, 31), "30号", date(2027, 2, 28) and None),
    (date(2028, 2, 28), "明天", date(2028, 2, 29)), (date(2028, 2, 28), "29号", date(2028, 2, 29)),
    (FRIDAY, "３号楼的灯", None), (FRIDAY, "食堂有什么菜", None),
]


@pytest.mark.parametrize("today, phrase, expected", PHRASES)
def test_the_date_resolver(today, phrase, expected):
    found = resolve_day(normalise(phrase), today)
    assert (found[0] if found else None) == expected


def test_the_resolver_table_is_large_enough():
    assert len(PHRASES) >= 40


# ---- ordering rules ------------------------------------------------------------------------------

CANTEEN_VIEW = CanteenView(CANTEEN, "香港花园社区食堂", SAFE, "20:00", {"lunch": 30, "dinner": 20, "breakfast": 0})


def test_the_cut_off_at_the_boundary_minute():
    day = date(2026, 11, 28)
    check_order(CANTEEN_VIEW, day, "lunch", 2, datetime(2026, 11, 27, 19, 59, 59, tzinfo=SHANGHAI))
    with pytest.raises(OrderRefused, match="20:00截止"):
        check_order(CANTEEN_VIEW, day, "lunch", 2, datetime(2026, 11, 27, 20, 0, tzinfo=SHANGHAI))
    with pytest.raises(OrderRefused, match="不提供送餐"):
        check_order(CANTEEN_VIEW, day, "breakfast", 1, datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI))


def tomorrow() -> date:
    return datetime.now(SHANGHAI).date() + timedelta(days=1)


# ---- residents ask ---------------------------------------------------------------------------------

def test_menu_questions_in_residents_words(http, seed):
    wx = WeChat(http, SAFE, seed)
    answer = wx.text("o-r", "明天食堂有什麼菜").text
    assert "香港花园社区食堂" in answer and "梅菜扣肉 12元" in answer and "午餐" in answer and "晚餐" in answer
    lunch = wx.text("o-r", "今天中午吃什么").text
    assert "午餐" in lunch and "晚餐" not in lunch
    assert "长者套餐" in lunch and "补贴3元" in lunch
    in_a_month = (datetime.now(SHANGHAI).date() + timedelta(days=20))
    assert "还没有发布" in wx.text("o-r", f"{in_a_month.month}月{in_a_month.day}日的菜单").text
    today = datetime.now(SHANGHAI).date()
    dumpling_day = next(today + timedelta(days=i) for i in range(7) if (today + timedelta(days=i)).weekday() in (2, 4, 6))
    weekday = "一二三四五六日"[dumpling_day.weekday()]
    assert wx.text("o-r", f"周{weekday}有没有饺子").text.startswith("有！")
    no_dumpling = next(today + timedelta(days=i) for i in range(7) if (today + timedelta(days=i)).weekday() in (0, 1))
    assert "没有饺子" in wx.text("o-r", f"周{'一二三四五六日'[no_dumpling.weekday()]}有没有饺子").text


def test_an_order_without_address_is_filed_at_once_and_the_address_attaches_later(http, seed, morning):
    wx = WeChat(http, SAFE, seed)
    filed = wx.text("o-r", "我一个人，明天晚饭能送一份吗").text
    assert "地址" in filed and "晚餐，1 份" in filed and "编号" in filed
    [request] = list(HelpRequest.by_resident.query(f"{SAFE}#o-r"))
    assert request.flags == ["needs_address"]  # staff see 待补地址, and may phone
    assert request.delivery_key == f"{CANTEEN}#{tomorrow().isoformat()}#dinner"  # its place is held
    closes = json.loads(Canteen.get(CANTEEN).meals)["dinner"]["closes"]  # due when the meal is, not in 12 hours
    assert request.due_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") == f"{tomorrow().isoformat()} {closes}"
    added = wx.text("o-r", "地址 香港中路12号1单元101").text
    assert request.number in added
    request.refresh()
    assert not request.flags
    shown = wx.text("o-r", "我的资料").text  # masked in chat (replies are kept for WeChat's retries)
    assert "香港中路" in shown and "101" not in shown
    assert Profile.get(Resident.get(SAFE, "o-r").profile_id).address == "香港中路12号1单元101"


def test_an_order_past_the_cut_off_is_filed_flagged_and_the_resident_told(http, seed, monkeypatch):
    from datetime import timezone

    from chalicelib import clock

    evening = datetime.combine(datetime.now(SHANGHAI).date(), datetime.min.time().replace(hour=20),
                               tzinfo=SHANGHAI)
    monkeypatch.setattr(clock, "_override", lambda: evening.astimezone(timezone.utc))
    wx = WeChat(http, SAFE, seed)
    wx.text("o-r", "地址 香港中路12号1单元101")
    answer = wx.text("o-r", "明天中午送两份饭").text
    [request] = list(HelpRequest.scan())
    assert "截止" in answer and request.number in answer and "联系您" in answer
    assert request.flags == ["late"] and request.delivery_key is None  # no place taken: staff decide


def test_a_relative_registers_and_orders_for_an_elder_and_the_profile_can_be_deleted(http, seed):
    wx = WeChat(http, SAFE, seed)
    assert "老人" in wx.text("o-daughter", "帮老人登记 地址 香港花园小区5号楼2单元301").text
    assert Resident.get(SAFE, "o-daughter").relation == "relative"
    assert "编号" in wx.text("o-daughter", "明天中午给我妈送一份饭").text
    assert "家属" in wx.text("o-daughter", "我的资料").text
    assert "已删除" in wx.text("o-daughter", "删除我的资料").text
    assert Profile.count() == 0 and Resident.get(SAFE, "o-daughter").profile_id is None


# ---- capacity race -------------------------------------------------------------------------------

def test_two_last_orders_cannot_both_take_the_last_place(moto_server, seed_on_server, morning):
    from chalicelib.services import chat as gateway

    canteen = Canteen.get(CANTEEN)
    meals = json.loads(canteen.meals)
    meals["lunch"]["delivery_capacity"] = 3
    canteen.meals = json.dumps(meals)
    canteen.save()
    wx = WeChat(None, SAFE, seed_on_server)
    residents = [f"o-race-{i}" for i in range(8)]

    def deliver(openid: str, content: str) -> str:
        fields = wx.fields(openid, "text", Content=content)
        ts, nonce = str(int(time.time())), f"n{openid}-{uuid.uuid4().hex[:8]}"  # a URL is used once
        from xml.etree import ElementTree as ET

        encrypted = ET.fromstring(wx.crypto().encrypt_message(message_xml(fields), nonce, ts)).findtext("Encrypt")
        query = {"signature": sign(wx.token, ts, nonce), "timestamp": ts, "nonce": nonce, "encrypt_type": "aes",
                 "msg_signature": sign(wx.token, ts, nonce, encrypted)}
        answer = gateway.receive(SAFE, query, f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode())
        root = ET.fromstring(answer.body)
        opened = wx.crypto().decrypt_message(answer.body, root.findtext("MsgSignature"), root.findtext("TimeStamp"),
                                             root.findtext("Nonce"))
        return ET.fromstring(opened).findtext("Content")

    for openid in residents:
        deliver(openid, f"地址 香港中路{residents.index(openid) + 1}号")
    barrier = threading.Barrier(len(residents))

    def order(openid: str) -> str:
        barrier.wait()
        return deliver(openid, "明天中午送一份饭")

    with ThreadPoolExecutor(len(residents)) as pool:
        answers = list(pool.map(order, residents))
    full = [a for a in answers if "名额已满" in a]
    taken = [a for a in answers if "编号" in a and a not in full]
    assert len(taken) == 3 and len(full) == 5 and all("编号" in a for a in full)  # every need is filed
    requests = list(HelpRequest.scan())
    assert len(requests) == 8
    assert sorted(tuple(r.flags or ()) for r in requests) == [()] * 3 + [("capacity_full",)] * 5
    assert sum(1 for r in requests if r.delivery_key) == 3  # only three on the delivery list


# ---- staff: menus and the delivery list ---------------------------------------------------------------

def test_the_public_menu_json_and_the_large_type_page(http, seed):
    answer = http.get(f"/api/v1/canteens/{CANTEEN}/menus?date={tomorrow().isoformat()}")
    assert answer.status_code == 200 and "max-age" in answer.headers["Cache-Control"]
    body = json.loads(answer.body)
    assert body["menus"][0]["published"] and body["menus"][0]["meals"]["lunch"]["dishes"][0]["name"] == "梅菜扣肉"
    page = http.get(f"/h5/canteens/{CANTEEN}")
    text = page.body.decode()
    assert page.status_code == 200 and "梅菜扣肉" in text and "font:22px" in text and "<script" not in text
    assert http.get("/h5/canteens/nowhere").status_code == 404
    assert http.get(f"/api/v1/canteens/{CANTEEN}/menus?date=tomorrow").status_code == 400


def test_staff_edit_and_copy_menus(http, seed):
    sw = login(http, "sw.xianggang-huayuan")
    day = (tomorrow() + timedelta(days=10)).isoformat()
    bad = http.put(f"/api/v1/canteens/{CANTEEN}/menus/{day}", headers=sw,
                   body=json.dumps({"meals": {"lunch": {"dishes": [{"name": "鱼", "price_fen": -1}]}}}))
    assert bad.status_code == 400 and "价格" in json.loads(bad.body)["message"]
    ok = http.put(f"/api/v1/canteens/{CANTEEN}/menus/{day}", headers=sw, body=json.dumps({
        "meals": {"lunch": {"dishes": [{"name": "红烧鲅鱼", "price_fen": 1500, "marks": ["少刺"]}]}},
        "published": True}))
    assert ok.status_code == 200
    assert "红烧鲅鱼" in json.loads(http.get(f"/api/v1/canteens/{CANTEEN}/menus?date={day}").body)["menus"][0][
        "meals"]["lunch"]["dishes"][0]["name"]
    next_week = (tomorrow() + timedelta(days=14)).isoformat()
    copied = json.loads(http.post(f"/api/v1/canteens/{CANTEEN}/menus/copy-week", headers=sw, body=json.dumps(
        {"from": tomorrow().isoformat(), "to": next_week})).body)
    assert len(copied["copied"]) >= 1 and copied["published"] is False
    other = login(http, "sw.jiangsu-lu")
    assert http.put(f"/api/v1/canteens/{CANTEEN}/menus/{day}", headers=other,
                    body=json.dumps({"meals": {}})).status_code == 404


def test_the_delivery_list_and_marking_delivered(http, seed, wechat):
    wx = WeChat(http, SAFE, seed)
    wx.text("o-elder", "地址 香港中路10号3单元502")
    wx.text("o-elder", "电话 13812345678")
    wechat.record_interaction(wx.account["appid"], "o-elder")
    wx.text("o-elder", "我们老两口明天中午要两份饭，要梅菜扣肉")
    team = login(http, "team.xianggang-huayuan-365")
    rows = json.loads(http.get(f"/api/v1/canteens/{CANTEEN}/deliveries?date={tomorrow().isoformat()}&meal=lunch",
                               headers=team).body)["items"]
    assert len(rows) == 1 and rows[0]["portions"] == 2 and rows[0]["dishes"] == ["梅菜扣肉"]
    assert rows[0]["phone"] == "13812345678" and rows[0]["address"] == "香港中路10号3单元502"
    csv_text = http.get(f"/api/v1/canteens/{CANTEEN}/deliveries?date={tomorrow().isoformat()}&meal=lunch"
                        "&format=csv", headers=team).body.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("编号,状态,份数") and "香港中路10号3单元502" in csv_text
    printable = http.get(f"/api/v1/canteens/{CANTEEN}/deliveries?date={tomorrow().isoformat()}&meal=lunch"
                         "&format=html", headers=team).body.decode()
    assert "送餐单" in printable and "签收" in printable
    done = http.post(f"/api/v1/canteens/{CANTEEN}/deliveries/{rows[0]['number']}/delivered", headers=team)
    assert done.status_code == 200 and json.loads(done.body)["state"] == "done"
    with Client(app, stage_name="test") as client:
        from local.jobs import drain

        drain(client, "outbox", "outbox_worker")
    sent = [c["body"]["text"]["content"] for c in wechat.calls if c["path"] == "/cgi-bin/message/custom/send"]
    assert any("已办结" in s for s in sent)
    outsider = login(http, "sw.jiangsu-lu")
    assert http.get(f"/api/v1/canteens/{CANTEEN}/deliveries", headers=outsider).status_code == 404
