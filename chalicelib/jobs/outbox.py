"""The outbox worker (发送队列): every message to a resident is written first, then sent from here.

First choice is a customer-service message (free, but only within 48 hours of the resident's last
message). When WeChat says the window is shut (45015), the account's template message for the purpose
is used (service accounts), or its subscribe message; with neither, the message becomes a staff task
(state `staff`): somebody phones or visits. A quota answer (45047) and other failures are retried with
exponential back-off; after the last try the message is marked `failed` for staff and SQS dead-letters
it. Sending takes a short lease first, so a message enqueued twice is still sent once.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from chalicelib import clock
from chalicelib import log
from chalicelib.domain.errors import PermanentFailure
from chalicelib.queues import publish_outbox

LOG = log.get_logger("jobs.outbox")
QUEUE = "outbox"
LEASE = timedelta(seconds=60)
WINDOW_SHUT = 45015  # response out of time limit: the 48-hour customer-service window is over
QUOTA = 45047  # out of response count limit


class LeaseBusy(RuntimeError):
    """Another worker is sending the item (or crashed while sending): retried after the lease."""


def _now() -> datetime:
    return clock.now()


def _take(outbox_id: str):
    """The pending item with a lease taken, or None when it is gone, done, or being sent elsewhere."""
    from pynamodb.exceptions import UpdateError

    from chalicelib.store.outbox import OutboxMessage

    now = _now()
    item = OutboxMessage(outbox_id)
    try:
        item.update(actions=[OutboxMessage.lease_until.set(now + LEASE), OutboxMessage.attempts.add(1)],
                    condition=OutboxMessage.outbox_id.exists() & (OutboxMessage.state == "pending")
                    & (OutboxMessage.lease_until.does_not_exist() | (OutboxMessage.lease_until < now)))
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
        try:
            current = OutboxMessage.get(outbox_id, consistent_read=True)
        except OutboxMessage.DoesNotExist:
            return None
        if current.state == "pending":  # another worker holds the lease: try again later, do not drop it
            raise LeaseBusy(f"outbox {outbox_id} is being sent elsewhere")
        return None
    return item


def _finish(item, state: str, channel: str | None = None, error: str | None = None) -> None:
    from chalicelib.store.outbox import OutboxMessage

    actions = [OutboxMessage.state.set(state), OutboxMessage.lease_until.remove()]
    if channel:
        actions.append(OutboxMessage.channel.set(channel))
    if state == "sent":
        actions.append(OutboxMessage.sent_at.set(_now()))
    if error:
        actions.append(OutboxMessage.last_error.set(error[:500]))
    item.update(actions=actions)


def _release(item, error: str) -> None:
    from chalicelib.store.outbox import OutboxMessage

    item.update(actions=[OutboxMessage.lease_until.remove(), OutboxMessage.last_error.set(error[:500])])


def _fallback(item, client) -> str | None:
    """Send through the account's template or subscribe message for the purpose; the channel used, or None."""
    from chalicelib.wechat.client import account_facts

    templates = json.loads(account_facts(item.account_id).notify_templates or "{}")
    spec = templates.get(item.purpose)
    if not spec:
        return None
    values = {**json.loads(item.fields or "{}"), "body": item.body}
    data = {key: {"value": str(values.get(field, ""))[:20 if spec["kind"] == "subscribe" else 200]}
            for key, field in spec.get("fields", {"first": "body"}).items()}
    if spec["kind"] == "template":
        client.message.send_template(item.openid, spec["template_id"], data)
        return "template"
    client.post("message/subscribe/bizsend", data={"touser": item.openid, "template_id": spec["template_id"],
                                                    "data": data})
    return "subscribe"


def deliver(message: dict) -> None:
    """Queue entry for one {outbox_id}."""
    outbox_id = message.get("outbox_id")
    if not isinstance(outbox_id, str) or not outbox_id:
        raise PermanentFailure("expected {outbox_id}")
    item = _take(outbox_id)
    if item is None:
        return  # already sent, handed to staff, or being sent by another worker
    with log.bind(account_id=item.account_id, outbox_id=outbox_id):
        try:
            _send(item)
        except Exception as exc:  # noqa: BLE001 - whatever failed, free the item for the retry, then re-raise
            _release(item, f"{type(exc).__name__}: {exc}")
            raise  # 45047 quota, timeouts and the rest: retried later with back-off


def _send(item) -> None:
    from chalicelib.wechat.client import WeChatApiError, client_for

    client = client_for(item.account_id)
    try:
        client.message.send_text(item.openid, item.body)
        _finish(item, "sent", "custom")
    except WeChatApiError as exc:
        if exc.errcode != WINDOW_SHUT:
            raise
        channel = _fallback(item, client)
        if not channel:
            _finish(item, "staff", error="customer-service window shut and no template for the purpose")
            log.event(LOG, "resident unreachable in WeChat; handed to staff", purpose=item.purpose)
            return
        _finish(item, "sent", channel)
    log.event(LOG, "message sent", channel=item.channel or "custom", purpose=item.purpose)


def give_up(message: dict, error: str) -> None:
    """After the last try: mark the item failed, so staff see it (it also sits in the dead-letter queue)."""
    from chalicelib.store.outbox import OutboxMessage

    outbox_id = message.get("outbox_id")
    if isinstance(outbox_id, str) and outbox_id:
        OutboxMessage(outbox_id).update(actions=[OutboxMessage.state.set("failed"),
                                                  OutboxMessage.last_error.set(error[:500]),
                                                  OutboxMessage.lease_until.remove()],
                                         condition=OutboxMessage.state == "pending")


def redrive(now: datetime | None = None, older_than: timedelta = timedelta(minutes=5)) -> dict:
    """Scheduled: hand pending items that never reached the queue (or lost their message) to it again."""
    from chalicelib.store.outbox import OutboxMessage

    cutoff = (now or _now()) - older_than
    stuck = [i.outbox_id for i in OutboxMessage.by_state.query("pending", OutboxMessage.created_at < cutoff)]
    if stuck:
        publish_outbox(stuck)
    log.event(LOG, "outbox redrive", requeued=len(stuck))
    return {"requeued": len(stuck)}
