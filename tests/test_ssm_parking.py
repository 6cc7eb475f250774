"""When SSM fails (throttled, timed out, down) a callback is parked as it came, never a 500: WeChat gets
an empty 200, the `inbound` worker checks and opens it once SSM answers, files the need and answers the
resident through the outbox. A forged callback parked that way is dropped by the worker."""
from __future__ import annotations

from botocore.exceptions import ClientError
from chalice.test import Client

from app import app
from chalicelib import secrets
from chalicelib.store.requests import HelpRequest
from local.jobs import drain
from tests.wechat_driver import WeChat

SAFE = "xianggang-huayuan"


def throttled(*args, **kwargs):
    raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetParameters")


def test_an_ssm_failure_parks_the_callback_and_the_worker_answers_it(http, seed, wechat, monkeypatch):
    store = secrets.secret_store()
    store._cache.forget(SAFE)
    monkeypatch.setattr(store._ssm(), "get_parameters", throttled)
    wx = WeChat(http, SAFE, seed)  # safe mode: the body can be opened only with the account's key
    answer = wx.text("o-resident-ssm", "楼道的灯坏了，能否派人来修？")
    assert answer.status == 200 and answer.body == "success"
    assert HelpRequest.count() == 0

    monkeypatch.undo()  # SSM answers again
    wechat.record_interaction(wx.account["appid"], "o-resident-ssm")
    with Client(app, stage_name="test") as client:
        assert drain(client, "inbound", "inbound_worker")["handled"] == 1
        assert drain(client, "outbox", "outbox_worker")["handled"] == 1
    [request] = list(HelpRequest.by_resident.query(f"{SAFE}#o-resident-ssm"))
    assert request.text == "楼道的灯坏了，能否派人来修？"
    [sent] = [c for c in wechat.calls if c["path"] == "/cgi-bin/message/custom/send"]
    assert request.number in sent["body"]["text"]["content"]


def test_a_forged_callback_parked_during_an_ssm_failure_is_dropped(http, seed, monkeypatch):
    store = secrets.secret_store()
    store._cache.forget(SAFE)
    monkeypatch.setattr(store._ssm(), "get_parameters", throttled)
    answer = http.post(f"/wechat/{SAFE}?signature=0&timestamp=1&nonce=2&msg_signature=3&encrypt_type=aes",
                       body=b"<xml><Encrypt>forged</Encrypt></xml>", headers={"Content-Type": "text/xml"})
    assert answer.status_code == 200
    monkeypatch.undo()
    with Client(app, stage_name="test") as client:
        result = drain(client, "inbound", "inbound_worker")
    assert result["handled"] == 1 and result["failed_deliveries"] == 0
    assert HelpRequest.count() == 0


def test_url_verification_during_an_ssm_failure_is_a_503(http, seed, monkeypatch):
    store = secrets.secret_store()
    store._cache.forget(SAFE)
    monkeypatch.setattr(store._ssm(), "get_parameters", throttled)
    assert http.get(f"/wechat/{SAFE}?signature=0&timestamp=1&nonce=2&echostr=x").status_code == 503
