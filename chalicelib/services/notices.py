"""Sending what residents must hear (通知): every message to a resident is written to the outbox first, then
sent from here by the outbox worker.

Channels in order: a customer-service message (free, only within 48 hours of the resident's last
message); when WeChat refuses that channel — the window is shut (45015), the resident's allowance of
messages is used up (45047), or the resident cannot be reached that way — the account's template
message (service accounts) or subscribe message for the purpose; with neither, or when those refuse
too, the message becomes a staff task (state `staff`): somebody phones or visits.

Delivery guarantee: at least once into WeChat's hands for a clear answer, at most one resend for an
ambiguous one. A call that fails without an answer (time-out, connection reset, a 5xx) may have been
delivered: the item records it (`ambiguous`), is retried once, and after a second ambiguous outcome it
is handed to staff as "uncertain" rather than sent a third time. A lease keeps two workers from sending
one item at once. After the queue's last try the item is marked `failed` and SQS dead-letters it.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from chalicelib import bootstrap, log
from chalicelib.domain.errors import PermanentFailure

LOG = log.get_logger("services.notices")
LEASE = timedelta(seconds=90)  # longer than one send with the worker's timeout
# WeChat answers that refuse a channel for this resident (the next channel is tried at once).
CHANNEL_REFUSED = {
    45015,  # response out of time limit: the 48-hour customer-service window is over
    45047,  # out of response count limit: the resident's allowance of customer-service messages is used
    43004,  # require subscribe: the resident does not follow the account
    40003,  # invalid openid
    48001,  # api unauthorized (the account may not use this channel)
    43101,  # user refuses to accept the msg (subscribe message not accepted)
    45009,  # reach max api daily quota limit
    40037,  # invalid template_id
}
MAX_AMBIGUOUS = 2  # outcomes without an answer: the first is resent once, the second goes to staff


class LeaseBusy(RuntimeError):
    """Another worker is sending the item (or crashed while sending): retried after the lease."""


class Ambiguous(RuntimeError):
    """WeChat gave no answer: the message may or may not have gone out."""


def deliver(message: dict) -> None:
    """Queue entry for one {outbox_id}."""
    outbox_id = message.get("outbox_id")
    if not isinstance(outbox_id, str) or not outbox_id:
        raise PermanentFailure("expected {outbox_id}")
    store = bootstrap.outbox()
    now = bootstrap.now()
    item = store.take(outbox_id, now, LEASE)
    if item is None:
        busy = store.pending(outbox_id)
        if busy:  # another worker holds the lease: try again later, do not drop it
            raise LeaseBusy(f"outbox {outbox_id} is being sent elsewhere")
        return  # already sent, handed to staff, or gone
    with log.bind(account_id=item.account_id, outbox_id=outbox_id):
        try:
            _send(item)
        except Ambiguous as exc:
            ambiguous = store.mark_ambiguous(item, str(exc))
            if ambiguous >= MAX_AMBIGUOUS:
                store.finish(item, "staff", bootstrap.now(), error=f"delivery uncertain after {ambiguous} tries: {exc}")
                log.event(LOG, "delivery uncertain; handed to staff", purpose=item.purpose)
                return
            raise
        except Exception as exc:  # noqa: BLE001 - whatever failed, free the item for the retry, then re-raise
            store.release(item, f"{type(exc).__name__}: {exc}")
            raise


def _send(item) -> None:
    client = bootstrap.wechat(item.account_id)
    errors = bootstrap.wechat_errors()
    store = bootstrap.outbox()
    refusals = []
    for channel in ("custom", "template_or_subscribe"):
        try:
            sent = _send_by(channel, item, client)
        except errors.api as exc:
            if exc.errcode not in CHANNEL_REFUSED:
                raise  # a fault on WeChat's side (e.g. -1 system busy): retried with back-off
            refusals.append(f"{channel}: {exc.errcode} {exc.errmsg}")
            continue
        except errors.transport as exc:
            raise Ambiguous(f"{channel}: {type(exc).__name__}: {exc}") from exc
        if sent is None:  # the account has no template or subscribe message for the purpose
            refusals.append(f"{channel}: none for purpose {item.purpose}")
            continue
        store.finish(item, "sent", bootstrap.now(), channel=sent)
        log.event(LOG, "message sent", channel=sent, purpose=item.purpose)
        return
    store.finish(item, "staff", bootstrap.now(), error="; ".join(refusals))
    log.event(LOG, "resident unreachable in WeChat; handed to staff", purpose=item.purpose, refusals=refusals)


def _send_by(channel: str, item, client) -> str | None:
    if channel == "custom":
        client.message.send_text(item.openid, item.body)
        return "custom"
    templates = json.loads(bootstrap.ports().account_templates(item.account_id) or "{}")
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


def give_up(message: dict, error: str) -> None:
    """After the last try: mark the item failed, so staff see it (it also sits in the dead-letter queue)."""
    outbox_id = message.get("outbox_id")
    if isinstance(outbox_id, str) and outbox_id:
        bootstrap.outbox().fail(outbox_id, error)


def redrive(now: datetime | None = None, older_than: timedelta = timedelta(minutes=5)) -> dict:
    """Scheduled: hand pending items that never reached the queue (or lost their message) to it again."""
    cutoff = (now or bootstrap.now()) - older_than
    stuck = bootstrap.outbox().pending_before(cutoff)
    if stuck:
        bootstrap.publish_outbox(stuck)
    log.event(LOG, "outbox redrive", requeued=len(stuck))
    return {"requeued": len(stuck)}
