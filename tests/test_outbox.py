"""The outbox: written first, sent by a worker; the window, quota, token and give-up paths."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from chalice.test import Client

from app import app
from chalicelib import queues
from chalicelib.domain.effects import Notify
from chalicelib.services import notices as outbox
from chalicelib.store.accounts import Account
from chalicelib.store.outbox import OutboxMessage
from chalicelib.store.tokens import AccessToken
from chalicelib.store.unit_of_work import commit
from chalicelib.domain.messages import NO_REPLY
from chalicelib.wechat.client import WeChatApiError
from local.jobs import drain, run

SUBSCRIPTION = "xianggang-huayuan"


def service_account(seed) -> str:
    return next(a["id"] for a in seed.records("accounts") if a["type"] == "service")


def notify(account_id: str, openid: str = "o-elder", body: str = "您的便民纸条已派单。") -> str:
    fields = {"number": "XG-20261127-0001", "state": "已派单", "team": "365便民服务队"}
    [outbox_id] = commit(f"test#{openid}#{body}", NO_REPLY, (Notify(account_id, openid, "request_update", body,
                                                                   fields),), datetime.now(timezone.utc))
    return outbox_id


def appid(account_id: str) -> str:
    return Account.get(account_id).appid


def sends(emulator, path: str) -> list[dict]:
    return [c for c in emulator.calls if c["path"] == path and c["response"].get("errcode", 0) == 0]


def test_inside_the_window_a_customer_service_message_goes_out_once(seed, wechat):
    wechat.record_interaction(appid(SUBSCRIPTION), "o-elder")
    outbox_id = notify(SUBSCRIPTION)
    outbox.deliver({"outbox_id": outbox_id})
    outbox.deliver({"outbox_id": outbox_id})  # enqueued twice (redrive): still sent once
    item = OutboxMessage.get(outbox_id)
    assert (item.state, item.channel, item.attempts) == ("sent", "custom", 1)
    [call] = sends(wechat, "/cgi-bin/message/custom/send")
    assert call["body"]["touser"] == "o-elder" and call["body"]["text"]["content"] == "您的便民纸条已派单。"


def test_window_shut_falls_back_to_a_template_on_a_service_account(seed, wechat):
    account = service_account(seed)
    outbox_id = notify(account)
    outbox.deliver({"outbox_id": outbox_id})
    assert OutboxMessage.get(outbox_id).channel == "template"
    [call] = sends(wechat, "/cgi-bin/message/template/send")
    assert call["body"]["data"]["keyword1"]["value"] == "XG-20261127-0001"


def test_window_shut_falls_back_to_a_subscribe_message_on_a_subscription_account(seed, wechat):
    outbox_id = notify(SUBSCRIPTION)
    outbox.deliver({"outbox_id": outbox_id})
    assert OutboxMessage.get(outbox_id).channel == "subscribe"
    assert sends(wechat, "/cgi-bin/message/subscribe/bizsend")


def test_without_any_way_through_wechat_it_becomes_a_staff_task(seed, wechat):
    account = Account.get(SUBSCRIPTION)
    account.notify_templates = "{}"
    account.save()
    outbox_id = notify(SUBSCRIPTION)
    outbox.deliver({"outbox_id": outbox_id})
    item = OutboxMessage.get(outbox_id)
    assert item.state == "staff" and "45015" in item.last_error
    assert [i.outbox_id for i in OutboxMessage.by_state.query("staff")] == [outbox_id]


def test_a_used_up_allowance_falls_back_to_the_next_channel_at_once(seed, wechat):
    wechat.record_interaction(appid(SUBSCRIPTION), "o-elder")
    ids = [notify(SUBSCRIPTION, body=f"消息 {i}") for i in range(6)]
    for outbox_id in ids[:5]:
        outbox.deliver({"outbox_id": outbox_id})
    outbox.deliver({"outbox_id": ids[5]})  # 45047 on the customer-service channel: not retried six times
    item = OutboxMessage.get(ids[5])
    assert (item.state, item.channel, item.attempts) == ("sent", "subscribe", 1)
    assert any(c["path"] == "/cgi-bin/message/custom/send" and c["response"].get("errcode") == 45047
               for c in wechat.calls)


def test_a_system_fault_is_retried_later_on_the_same_item(seed, wechat, monkeypatch):
    outbox_id = notify(SUBSCRIPTION)
    monkeypatch.setattr(outbox, "_send_by", lambda channel, item, client: (_ for _ in ()).throw(
        WeChatApiError(-1, "system busy")))
    with pytest.raises(WeChatApiError):
        outbox.deliver({"outbox_id": outbox_id})
    item = OutboxMessage.get(outbox_id)
    assert item.state == "pending" and item.lease_until is None and "system busy" in item.last_error
    monkeypatch.undo()
    outbox.deliver({"outbox_id": outbox_id})
    assert OutboxMessage.get(outbox_id).state == "sent"


def test_a_slow_answer_is_resent_at_most_once_then_handed_to_staff(seed, wechat, monkeypatch):
    from chalicelib.wechat.http import WeChatTransportError

    outbox_id = notify(SUBSCRIPTION)
    tries = []

    def times_out(channel, item, client):  # what the client raises when WeChat does not answer in time
        tries.append(channel)
        raise WeChatTransportError("ReadTimeoutError")
    monkeypatch.setattr(outbox, "_send_by", times_out)
    with pytest.raises(outbox.Ambiguous):
        outbox.deliver({"outbox_id": outbox_id})
    assert OutboxMessage.get(outbox_id).ambiguous == 1
    outbox.deliver({"outbox_id": outbox_id})  # the one resend: no answer again, so staff take it over
    item = OutboxMessage.get(outbox_id)
    assert item.state == "staff" and "uncertain" in item.last_error and tries == ["custom", "custom"]
    outbox.deliver({"outbox_id": outbox_id})
    assert tries == ["custom", "custom"]  # never a third send


def test_a_rejected_token_is_refreshed_and_the_message_still_goes(seed, wechat):
    wechat.record_interaction(appid(SUBSCRIPTION), "o-elder")
    AccessToken(SUBSCRIPTION, token="revoked-token", expires_at=datetime.now(timezone.utc) + timedelta(hours=1)).save()
    outbox_id = notify(SUBSCRIPTION)
    outbox.deliver({"outbox_id": outbox_id})
    assert OutboxMessage.get(outbox_id).state == "sent"
    refreshes = [c for c in wechat.calls if c["path"] == "/cgi-bin/stable_token"]
    assert len(refreshes) == 1


def test_after_the_last_try_the_message_is_marked_failed_for_staff(seed, wechat, monkeypatch):
    outbox_id = notify(SUBSCRIPTION)
    monkeypatch.setattr(outbox, "_send_by", lambda channel, item, client: (_ for _ in ()).throw(
        WeChatApiError(-1, "system busy")))
    records = {"Records": [{"messageId": "m", "receiptHandle": "", "body": json.dumps({"outbox_id": outbox_id}),
                            "attributes": {"ApproximateReceiveCount": str(queues.QUEUES["outbox"].max_receives)},
                            "eventSource": "aws:sqs", "eventSourceARN": "arn:aws-cn:sqs:cn-north-1:1:q"}]}
    with Client(app, stage_name="test") as client:
        answer = client.lambda_.invoke("outbox_worker", records).payload
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m"}]}
    item = OutboxMessage.get(outbox_id)
    assert item.state == "failed" and "system busy" in item.last_error


def test_the_gateway_path_enqueues_and_the_queue_handler_sends(seed, wechat):
    wechat.record_interaction(appid(SUBSCRIPTION), "o-elder")
    outbox_id = notify(SUBSCRIPTION)
    queues.publish_outbox([outbox_id])
    with Client(app, stage_name="test") as client:
        assert drain(client, "outbox", "outbox_worker") == {"queue": "outbox", "handled": 1, "failed_deliveries": 0}
    assert OutboxMessage.get(outbox_id).state == "sent"


def test_redrive_requeues_items_that_never_reached_the_queue(seed, wechat):
    wechat.record_interaction(appid(SUBSCRIPTION), "o-elder")
    outbox_id = notify(SUBSCRIPTION)  # committed, but never enqueued (SQS was down)
    item = OutboxMessage.get(outbox_id)
    item.update(actions=[OutboxMessage.created_at.set(datetime.now(timezone.utc) - timedelta(minutes=10))])
    result = run("outbox-redrive", {})
    assert result["result"] == {"requeued": 1}
    assert result["queues"] == [{"queue": "outbox", "handled": 1, "failed_deliveries": 0}]
    assert OutboxMessage.get(outbox_id).state == "sent"
