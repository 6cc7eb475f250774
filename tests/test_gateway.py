"""The WeChat gateway, driven as WeChat's servers drive it (signed, encrypted, retried)."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from app import app
from chalicelib.store.inbox import Delivery
from chalicelib.store.requests import HelpRequest
from chalicelib.store.residents import Resident
from chalicelib.store.rules import RuleSet
from chalicelib.services import chat as gateway
from tests.wechat_driver import WeChat, message_xml, sign

SAFE = "xianggang-huayuan"


def plain_account(seed) -> str:
    return next(a["id"] for a in seed.records("accounts") if a["encryption_mode"] == "plain")


def compatible_account(seed) -> str:
    return next(a["id"] for a in seed.records("accounts") if a["encryption_mode"] == "compatible")


@pytest.fixture
def http(seed):
    with Client(app, stage_name="test") as client:
        yield client.http


def deliveries() -> int:
    return Delivery.count()


# ---- URL verification ----------------------------------------------------------------------------

def test_url_verification_echoes_echostr_in_every_mode(http, seed):
    for account_id in (SAFE, plain_account(seed)):
        wx = WeChat(http, account_id, seed)
        ts = str(int(time.time()))
        query = {"signature": sign(wx.token, ts, "n1"), "timestamp": ts, "nonce": "n1", "echostr": "4521337"}
        answer = http.get(f"/wechat/{account_id}?{urlencode(query)}")
        assert (answer.status_code, answer.body) == (200, b"4521337")
        query["signature"] = "0" * 40
        assert http.get(f"/wechat/{account_id}?{urlencode(query)}").status_code == 403


def test_unknown_account_is_404(http):
    assert http.get("/wechat/no-such-account?signature=x&timestamp=1&nonce=1&echostr=1").status_code == 404
    assert http.post("/wechat/no-such-account", body=b"<xml/>", headers={"Content-Type": "text/xml"}).status_code == 404


# ---- modes ---------------------------------------------------------------------------------------

def test_safe_mode_reply_is_encrypted_and_opens(http, seed):
    answer = WeChat(http, SAFE, seed).text("o-resident-1", "帮助")
    assert answer.status == 200 and "<Encrypt>" in answer.body and "便民纸条" in answer.text


def test_plain_and_compatible_modes(http, seed):
    plain = WeChat(http, plain_account(seed), seed).text("o-resident-1", "帮助")
    assert "<Encrypt>" not in plain.body and "便民纸条" in plain.text
    compatible = WeChat(http, compatible_account(seed), seed)
    assert "<Encrypt>" in compatible.text("o-resident-1", "帮助").body
    unencrypted = compatible.text("o-resident-1", "帮助", encrypt=False)  # compatible accepts both
    assert "<Encrypt>" not in unencrypted.body and "便民纸条" in unencrypted.text


@pytest.mark.parametrize("tamper", ["signature", "stale", "foreign_appid", "plaintext_to_safe"])
def test_forged_callbacks_are_refused_and_nothing_is_stored(http, seed, tamper):
    wx = WeChat(http, SAFE, seed)
    fields = wx.fields("o-attacker", "text", Content="请派人来")
    if tamper == "stale":
        answer = wx.deliver(fields, timestamp=int(time.time()) - 3600)
    elif tamper == "foreign_appid":
        answer = wx.deliver(fields, appid="wx0000000000000000")
    elif tamper == "plaintext_to_safe":
        answer = wx.deliver(fields, encrypt=False)
    else:
        ts = str(int(time.time()))
        answer = wx.open(wx.post_raw(message_xml(fields), {"signature": "f" * 40, "timestamp": ts, "nonce": "n"}),
                         encrypted=False, nonce="n", ts=ts)
    assert answer.status == 403
    assert deliveries() == 0 and HelpRequest.count() == 0


# ---- hostile input -------------------------------------------------------------------------------

def _signed_query(wx: WeChat) -> dict:
    ts = str(int(time.time()))
    return {"signature": sign(wx.token, ts, "n"), "timestamp": ts, "nonce": "n"}


@pytest.mark.parametrize("body", [
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><xml><a>&lol2;</a></xml>',
    b"<xml><ToUserName>" + b"x" * (65 * 1024) + b"</ToUserName></xml>",
    b"\xff\xfe<xml></xml>",
    b"<xml><ToUserName><![CDATA[gh_x]]></ToUserName></xml>",
    b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>soon</CreateTime>"
    b"<MsgType>text</MsgType></xml>",
    b"<xml><unclosed>",
    b"",
])
def test_hostile_bodies_get_a_4xx_and_store_nothing(http, seed, body):
    wx = WeChat(http, plain_account(seed), seed)
    response = wx.post_raw(body, _signed_query(wx))
    assert 400 <= response.status_code < 500
    assert b"Traceback" not in (response.body or b"")
    assert deliveries() == 0


def test_broken_ciphertext_and_json_are_refused(http, seed):
    wx = WeChat(http, SAFE, seed)
    query = {**_signed_query(wx), "encrypt_type": "aes"}
    for encrypted in ("%%%not-base64%%%", "QUJD", "A" * 44):
        query["msg_signature"] = sign(wx.token, query["timestamp"], query["nonce"], encrypted)
        response = wx.post_raw(f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>", query)
        assert 400 <= response.status_code < 500
    assert wx.post_raw('{"MsgType": "text"}', query, content_type="application/json").status_code == 415
    assert deliveries() == 0


def test_cdata_breakers_come_back_intact(http, seed):
    answer = WeChat(http, SAFE, seed).text("o-resident-1", "找 ]]><b>&amp;")
    assert "]]><b>&amp;" in answer.text


# ---- exactly once --------------------------------------------------------------------------------

def test_a_retried_message_gets_the_same_reply_and_files_once(http, seed):
    wx = WeChat(http, SAFE, seed)
    fields = wx.fields("o-resident-2", "text", Content="楼道的灯坏了，能否派人来修？")
    first, second, third = (wx.deliver(fields) for _ in range(3))
    assert first.text == second.text == third.text and "编号" in first.text
    assert HelpRequest.count() == 1 and deliveries() == 1


def _sealed(wx: WeChat, fields: dict, nonce: str) -> tuple[dict, bytes]:
    from xml.etree import ElementTree as ET

    ts = str(int(time.time()))
    envelope = wx.crypto().encrypt_message(message_xml(fields), nonce, ts)
    encrypted = ET.fromstring(envelope).findtext("Encrypt")
    query = {"signature": sign(wx.token, ts, nonce), "timestamp": ts, "nonce": nonce, "encrypt_type": "aes",
             "msg_signature": sign(wx.token, ts, nonce, encrypted)}
    return query, f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode()


def test_three_simultaneous_deliveries_on_three_lambdas_file_one_request(moto_server, seed_on_server, morning):
    """The article's request, delivered three times at once (WeChat's retries landing on three Lambdas)."""
    wx = WeChat(None, SAFE, seed_on_server)
    gateway.receive(SAFE, *_sealed(wx, wx.fields("o-resident-3", "text", Content="地址 香港中路10号3单元502"), "n0"))
    query, body = _sealed(wx, wx.fields("o-resident-3", "text", Content=(
        "聽說社區食堂明天飯菜有梅菜扣肉、干煸蕓豆等,我們老兩口身體不便,社區能否明天派人送飯?")), "n3")
    barrier = threading.Barrier(3)

    def lambda_copy(_):
        barrier.wait()
        return gateway.receive(SAFE, query, body)

    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda_copy, range(3)))
    replies = {wx.open(type("R", (), {"status_code": a.status, "body": a.body.encode()})(), True, "n3",
                       query["timestamp"]).text for a in answers}
    assert len(replies) == 1 and "编号" in replies.pop()
    assert HelpRequest.count() == 1


# ---- every type ----------------------------------------------------------------------------------

def test_every_message_type_is_answered(http, seed):
    wx = WeChat(http, SAFE, seed)
    o = "o-resident-4"
    assert "编号" in wx.deliver(wx.fields(o, "image", PicUrl="http://x/p.jpg", MediaId="m1")).text
    spoken = wx.deliver(wx.fields(o, "voice", MediaId="m2", Format="amr", Recognition="我的纸条"))
    assert "办理中的便民纸条" in spoken.text
    silent = wx.deliver(wx.fields(o, "voice", MediaId="m3", Format="amr"))
    assert "语音留言" in silent.text and "工作人员" in silent.text
    assert "编号" in wx.deliver(wx.fields(o, "video", MediaId="m4", ThumbMediaId="t")).text
    assert "编号" in wx.deliver(wx.fields(o, "shortvideo", MediaId="m5", ThumbMediaId="t")).text
    located = wx.deliver(wx.fields(o, "location", Location_X="36.06", Location_Y="120.38", Scale="15",
                                   Label="香港中路"))
    assert "香港中路" in located.text
    assert "已收到您分享" in wx.deliver(wx.fields(o, "link", Title="一篇文章", Description="d", Url="http://x")).text
    voiced = HelpRequest.by_resident.query(f"{SAFE}#{o}")
    assert {r.channel for r in voiced} == {"wechat", "voice"}
    assert wx.deliver(wx.fields(o, "miniprogrampage", Title="x")).body == "success"


def test_every_event_is_answered(http, seed):
    wx = WeChat(http, SAFE, seed)
    o, now = "o-resident-5", int(time.time())
    welcome = wx.event(o, "subscribe", created=now, EventKey="qrscene_grid-XG-01", Ticket="t")
    assert "微市南" in welcome.text and "微社区" in welcome.text and "微服务" in welcome.text
    assert Resident.get(SAFE, o).subscribed is True
    assert "欢迎" in wx.event(o, "SCAN", created=now + 1, EventKey="grid-XG-01", Ticket="t").text
    assert wx.event(o, "LOCATION", created=now + 2, Latitude="36", Longitude="120", Precision="10").body == "success"
    assert "便民纸条" in wx.event(o, "CLICK", created=now + 3, EventKey="HELP").text
    assert wx.event(o, "VIEW", created=now + 4, EventKey="http://x").body == "success"
    for event in ("MASSSENDJOBFINISH", "TEMPLATESENDJOBFINISH"):
        assert wx.event(o, event, created=now + 5, MsgID="1", Status="send success").body == "success"
    published = wx.deliver({**wx.fields(o, "event", created=now + 6, Event="PUBLISHJOBFINISH"),
                            "PublishEventInfo": "<publish_id>1</publish_id><publish_status>0</publish_status>"})
    assert published.status == 200
    assert wx.event(o, "unsubscribe", created=now + 7).body == "success"
    assert Resident.get(SAFE, o).subscribed is False


def test_the_same_event_twice_counts_once(http, seed):
    wx = WeChat(http, SAFE, seed)
    now = int(time.time())
    wx.event("o-resident-6", "subscribe", created=now)
    wx.event("o-resident-6", "subscribe", created=now)
    assert deliveries() == 1


# ---- rules are data ------------------------------------------------------------------------------

def test_input_is_normalised_before_rules(http, seed):
    wx = WeChat(http, SAFE, seed)
    assert "便民纸条" in wx.text("o-resident-7", "幫助").text  # traditional
    assert "便民纸条" in wx.text("o-resident-7", "ｈｅｌｐ　").text  # full-width, ideographic space


def test_a_communitys_own_rules_win(http, seed):
    from chalicelib.domain.rules import Rule, rules_to_json
    from chalicelib.store.ports import RULES_CACHE

    RuleSet(SAFE, rules=rules_to_json([
        Rule("text", "开放时间", "reply_text", params={"text": "社区服务站 8:30-17:30 开放。"}),
        Rule("text", r"^(?P<n>\d+)号楼", "reply_text", match="regex", params={"text": "请直接留言具体问题。"}),
        Rule("text", "停水|停电", "reply_text", match="contains", params={"text": "停水停电请拨打 96663。"}),
        Rule("type", "text", "file_request"),
    ])).save()
    RULES_CACHE.clear()
    wx = WeChat(http, SAFE, seed)
    assert wx.text("o-resident-8", "開放時間").text == "社区服务站 8:30-17:30 开放。"
    assert wx.text("o-resident-8", "3号楼怎么走").text == "请直接留言具体问题。"
    assert wx.text("o-resident-8", "今天停水吗").text == "停水停电请拨打 96663。"
    assert "编号" in wx.text("o-resident-8", "帮助").text  # their rules have no 帮助: it is a 便民纸条 now


# ---- a failed write loses nothing ----------------------------------------------------------------

def test_when_dynamodb_fails_the_message_is_parked_and_answered_later(http, seed, wechat, monkeypatch):
    from pynamodb.exceptions import TransactWriteError

    from chalicelib.services import notices as outbox
    from chalicelib.store import unit_of_work
    from chalicelib.store.outbox import OutboxMessage
    from local.jobs import drain

    real_commit = unit_of_work.commit

    def failing_commit(*args, **kwargs):
        raise TransactWriteError("DynamoDB is unavailable")

    monkeypatch.setattr(unit_of_work, "commit", failing_commit)
    wx = WeChat(http, SAFE, seed)
    holding = wx.text("o-resident-9", "楼道的灯坏了，能否派人来修？")
    assert holding.status == 200 and "处理好后会马上回复您" in holding.text
    assert HelpRequest.count() == 0

    monkeypatch.setattr(unit_of_work, "commit", real_commit)
    wechat.record_interaction(wx.account["appid"], "o-resident-9")
    with Client(app, stage_name="test") as client:
        assert drain(client, "inbound", "inbound_worker")["handled"] == 1
        assert drain(client, "outbox", "outbox_worker")["handled"] == 1
    [request] = list(HelpRequest.by_resident.query(f"{SAFE}#o-resident-9"))
    assert request.text == "楼道的灯坏了，能否派人来修？"
    [sent] = [c for c in wechat.calls if c["path"] == "/cgi-bin/message/custom/send"]
    assert request.number in sent["body"]["text"]["content"]
    assert [m.state for m in OutboxMessage.by_state.query("sent")] == ["sent"]
    assert outbox  # the worker module is the one the queue handler runs


def test_when_sqs_fails_too_wechat_gets_an_error_and_retries(http, seed, monkeypatch):
    from pynamodb.exceptions import TransactWriteError

    from chalicelib import queues
    from chalicelib.store import unit_of_work

    def down(*args, **kwargs):
        raise TransactWriteError("down")

    def refused(*args, **kwargs):
        raise queues.SendFailed("down")

    monkeypatch.setattr(unit_of_work, "commit", down)
    monkeypatch.setattr(queues, "send", refused)
    answer = WeChat(http, plain_account(seed), seed).text("o-resident-10", "请帮忙修一下门锁")
    assert answer.status == 500  # no 'success': WeChat delivers the message again
    assert HelpRequest.count() == 0


def test_a_parked_message_that_turns_out_a_duplicate_need_still_gets_its_answer(http, seed, wechat, monkeypatch):
    from pynamodb.exceptions import TransactWriteError

    from chalicelib.store import unit_of_work
    from chalicelib.store.outbox import OutboxMessage
    from local.jobs import drain

    wx = WeChat(http, SAFE, seed)
    first = wx.text("o-resident-11", "三号楼楼道灯坏了，请来修")
    real_commit = unit_of_work.commit
    calls = {"n": 0}

    def fail_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise TransactWriteError("DynamoDB is unavailable")
        return real_commit(*args, **kwargs)

    monkeypatch.setattr(unit_of_work, "commit", fail_once)
    assert "处理好后会马上回复您" in wx.text("o-resident-11", "三号楼楼道灯坏了，请来修").text
    wechat.record_interaction(wx.account["appid"], "o-resident-11")
    with Client(app, stage_name="test") as client:
        assert drain(client, "inbound", "inbound_worker")["handled"] == 1
        assert drain(client, "outbox", "outbox_worker")["handled"] == 1
    [sent] = [c for c in wechat.calls if c["path"] == "/cgi-bin/message/custom/send"]
    number = first.text.split("编号 ")[1].split("。")[0]
    assert "不用重复提交" in sent["body"]["text"]["content"] and number in sent["body"]["text"]["content"]
    assert HelpRequest.count() == 1 and [m.state for m in OutboxMessage.by_state.query("sent")] == ["sent"]


def test_a_retry_parked_after_its_original_committed_gets_exactly_one_follow_up(http, seed, wechat, monkeypatch):
    """Commit, then WeChat's retry of the same message under a storage outage (parked with the holding
    reply), then recovery: the resident gets the first reply, with its number, once — and no new number."""
    from pynamodb.exceptions import TransactWriteError

    from chalicelib.store import unit_of_work
    from chalicelib.store.counters import Counter
    from local.jobs import drain

    wx = WeChat(http, SAFE, seed)
    fields = wx.fields("o-resident-12", "text", Content="楼道灯坏了，请派人来修")
    first = wx.deliver(fields)
    number = first.text.split("编号 ")[1].split("。")[0]
    counters = sorted((c.counter_id, int(c.value)) for c in Counter.scan())
    monkeypatch.setattr(unit_of_work, "commit", lambda *a, **k: (_ for _ in ()).throw(TransactWriteError("down")))
    assert "处理好后会马上回复您" in wx.deliver(fields, nonce="retry1").text  # the same message, retried by WeChat
    monkeypatch.undo()
    wechat.record_interaction(wx.account["appid"], "o-resident-12")
    with Client(app, stage_name="test") as client:
        assert drain(client, "inbound", "inbound_worker")["handled"] == 1
        assert drain(client, "outbox", "outbox_worker")["handled"] == 1
    sent = [c for c in wechat.calls if c["path"] == "/cgi-bin/message/custom/send"]
    assert [c["body"]["text"]["content"] for c in sent] == [first.text] and number in first.text
    assert HelpRequest.count() == 1
    after = sorted((c.counter_id, int(c.value)) for c in Counter.scan() if not c.counter_id.startswith("count#"))
    assert after == [c for c in counters if not c[0].startswith("count#")]  # no number taken by the replay


def test_a_slow_store_is_answered_within_the_budget_and_followed_up_once(http, seed, wechat, monkeypatch):
    import time as clock_time

    from chalicelib import config
    from chalicelib.store import unit_of_work
    from local.jobs import drain

    monkeypatch.setenv("WECHAT_CALLBACK_BUDGET_S", "1")
    config.settings.cache_clear()
    real_commit = unit_of_work.commit

    def slow_commit(*args, **kwargs):
        clock_time.sleep(2.5)  # DynamoDB throttling: the write lands, but late
        return real_commit(*args, **kwargs)

    monkeypatch.setattr(unit_of_work, "commit", slow_commit)
    wx = WeChat(http, SAFE, seed)
    started = clock_time.monotonic()
    holding = wx.text("o-resident-13", "楼道灯坏了，请派人来修")
    assert clock_time.monotonic() - started < 2.0, "the callback must answer within its budget"
    assert "处理好后会马上回复您" in holding.text
    clock_time.sleep(2.5)  # the slow write completes in the background
    monkeypatch.setattr(unit_of_work, "commit", real_commit)
    config.settings.cache_clear()
    wechat.record_interaction(wx.account["appid"], "o-resident-13")
    with Client(app, stage_name="test") as client:
        assert drain(client, "inbound", "inbound_worker")["handled"] == 1
        drain(client, "outbox", "outbox_worker")
    [request] = list(HelpRequest.by_resident.query(f"{SAFE}#o-resident-13"))
    sent = [c["body"]["text"]["content"] for c in wechat.calls if c["path"] == "/cgi-bin/message/custom/send"]
    assert len(sent) == 1 and request.number in sent[0]
