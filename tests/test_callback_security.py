"""Callbacks are single-use and checked before storage: a captured URL cannot carry another body, a
compatible-mode account needs the encrypted part, and malformed fields are a 400 with nothing stored."""
from __future__ import annotations

import time

import pytest
from chalice.test import Client

from app import app
from chalicelib.store.inbox import CallbackStamp, Delivery
from chalicelib.store.requests import HelpRequest
from chalicelib.store.residents import Profile
from tests.wechat_driver import WeChat, message_xml, sign


def account_in(seed, mode: str) -> str:
    return next(a["id"] for a in seed.records("accounts") if a["encryption_mode"] == mode)


@pytest.fixture
def http(seed):
    with Client(app, stage_name="test") as client:
        yield client.http


def captured_query(wx: WeChat, nonce: str = "captured1") -> dict[str, str]:
    ts = str(int(time.time()))
    return {"signature": sign(wx.token, ts, nonce), "timestamp": ts, "nonce": nonce}


def content(response) -> str:
    """The reply's text (CreateTime differs between copies answered in different seconds)."""
    import xml.etree.ElementTree as ET

    return ET.fromstring(response.body).findtext("Content")


def inbound_queue_depth() -> int:
    from chalicelib.queues import _sqs, queue_url

    attributes = _sqs().get_queue_attributes(QueueUrl=queue_url("inbound"),
                                             AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def test_the_demo_seed_runs_most_accounts_in_safe_mode(seed):
    modes = [a["encryption_mode"] for a in seed.records("accounts")]
    assert modes.count("safe") > 0.9 * len(modes)


def test_a_captured_plain_url_cannot_carry_another_body(http, seed):
    """The issue's attack: one captured plain-mode URL replayed with `删除我的资料` → 403, profile kept."""
    wx = WeChat(http, account_in(seed, "plain"), seed)
    resident = "o-plain-resident"
    assert "已" in wx.text(resident, "地址 香港中路10号3单元502").text
    profiles_before = Profile.count()
    query = captured_query(wx)
    first = wx.post_raw(message_xml(wx.fields(resident, "text", Content="帮助")), query)
    assert first.status_code == 200 and "便民纸条" in first.body.decode()

    for content in ("删除我的资料", "我的资料", "楼道灯坏了，请派人来修"):
        replay = wx.post_raw(message_xml(wx.fields(resident, "text", Content=content)), query)
        assert replay.status_code == 403, content
        assert "资料" not in replay.body.decode()
    assert Profile.count() == profiles_before == 1
    assert HelpRequest.count() == 0
    assert Delivery.count() == 2  # the address and 帮助; nothing from the replays


def test_wechats_retry_of_the_same_message_still_gets_the_first_reply(http, seed):
    wx = WeChat(http, account_in(seed, "plain"), seed)
    fields = wx.fields("o-retry", "text", Content="楼道的灯坏了，能否派人来修？")
    query = captured_query(wx, "retry1")
    answers = [wx.post_raw(message_xml(fields), query) for _ in range(3)]  # same URL, same message
    assert {a.status_code for a in answers} == {200}
    texts = {content(a) for a in answers}
    assert len(texts) == 1 and "编号" in texts.pop()
    # A retry on a new URL is answered too, and that URL is then used up as well.
    retry_query = captured_query(wx, "retry2")
    assert content(wx.post_raw(message_xml(fields), retry_query)) == content(answers[0])
    other = wx.fields("o-retry", "text", Content="我的纸条")
    assert wx.post_raw(message_xml(other), retry_query).status_code == 403
    assert HelpRequest.count() == 1
    assert CallbackStamp.get(f"{wx.account['id']}#{retry_query['timestamp']}#retry2#{retry_query['signature']}")


def test_a_stamp_is_forgotten_once_its_window_has_passed(seed):
    """The stamp's expiry is the end of the replay window: after it, the timestamp alone refuses the URL."""
    from datetime import timedelta

    assert CallbackStamp.count() == 0  # fresh tables
    wx = WeChat(None, account_in(seed, "plain"), seed)
    from chalicelib.services import chat as gateway

    query = captured_query(wx, "window1")
    answer = gateway.receive(wx.account["id"], query, message_xml(wx.fields("o-w", "text", Content="帮助")).encode())
    assert answer.status == 200
    stamp = next(iter(CallbackStamp.scan()))
    signed_at = int(query["timestamp"])
    assert timedelta(seconds=300) < stamp.expires_at - _utc(signed_at) <= timedelta(seconds=302)


def _utc(seconds: int):
    from datetime import datetime, timezone

    return datetime.fromtimestamp(seconds, timezone.utc)


def test_safe_mode_replay_of_a_captured_envelope_is_answered_once(http, seed):
    """In safe mode the body is authenticated; a captured envelope sent again is WeChat's retry: same reply."""
    wx = WeChat(http, account_in(seed, "safe"), seed)
    fields = wx.fields("o-safe", "text", Content="帮助")
    first = wx.deliver(fields, nonce="safe1")
    again = wx.deliver(fields, nonce="safe1")
    assert first.text == again.text and Delivery.count() == 1


def test_compatible_mode_without_the_encrypted_part_is_refused(http, seed):
    wx = WeChat(http, account_in(seed, "compatible"), seed)
    assert wx.text("o-compat", "帮助", encrypt=False).status == 403
    assert "便民纸条" in wx.text("o-compat", "帮助").text
    assert Delivery.count() == 1


@pytest.mark.parametrize("field,value", [
    ("MsgId", "1" * 3000),
    ("MsgId", "12ab"),
    ("FromUserName", "o" * 3000),
    ("FromUserName", "o<script>"),
    ("ToUserName", "g" * 300),
    ("MsgType", "t" * 100),
    ("Content", "长" * 9000),
])
def test_malformed_callback_fields_are_a_400_and_nothing_is_stored_or_parked(http, seed, field, value):
    for mode in ("plain", "safe"):
        wx = WeChat(http, account_in(seed, mode), seed)
        fields = wx.fields("o-fuzz", "text", Content="楼道灯坏了")
        fields[field] = value
        answer = wx.deliver(fields)
        assert answer.status == 400, (mode, field)
    assert Delivery.count() == 0 and HelpRequest.count() == 0 and CallbackStamp.count() == 0
    assert inbound_queue_depth() == 0


@pytest.mark.parametrize("query", [
    {"timestamp": "1" * 40, "nonce": "n"},
    {"timestamp": "not-a-time", "nonce": "n"},
    {"timestamp": "1700000000", "nonce": "n" * 500},
    {"timestamp": "1700000000", "nonce": "<n>"},
])
def test_malformed_signature_parameters_are_a_400(http, seed, query):
    wx = WeChat(http, account_in(seed, "plain"), seed)
    query = {**query, "signature": sign(wx.token, query["timestamp"], query["nonce"])}
    response = wx.post_raw(message_xml(wx.fields("o-x", "text", Content="帮助")), query)
    assert response.status_code == 400
    assert Delivery.count() == 0
