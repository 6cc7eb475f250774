"""One WeChat callback, from bytes to the answer: the use case behind `/wechat/{account_id}`.

Look up the account (cached), verify and open the message, let the router decide, commit the delivery
and its effects exactly once, hand outbound messages to the outbox queue, render and seal the reply.
WeChat gives us five seconds; the warm path makes one DynamoDB write (two when it files a 便民纸条).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from chalicelib import clock
from chalicelib import log
from chalicelib.config import settings

LOG = log.get_logger("wechat.gateway")


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


NOT_FOUND = Answer(404, "unknown account")
NOT_READY = Answer(503, "account not ready")
SUCCESS = Answer(200, "success")


class AccountNotReady(Exception):
    """The account's secrets are missing in SSM, or do not fit its mode: 503, never a 500."""


def _keys(account):
    from chalicelib.secrets import SecretsMissing, secret_store
    from chalicelib.wechat.protocol import AccountKeys

    try:
        secrets = secret_store().get(account.view.account_id)
        return AccountKeys(appid=account.appid, token=secrets.token, encoding_aes_key=secrets.encoding_aes_key,
                           mode=account.encryption_mode)
    except (SecretsMissing, ValueError) as exc:
        log.event(LOG, "account not ready: secrets missing or unfit", logging.ERROR, error=str(exc))
        raise AccountNotReady(str(exc)) from None


HOLDING_REPLY_TEXT = "已收到您的消息，系统正忙，处理好后会马上回复您。"


def _parkable() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError
    from pynamodb.exceptions import PynamoDBException

    return (PynamoDBException, BotoCoreError)


def handle(account, message, now: datetime, follow_up: bool = False, stamp=None):
    """Route and commit one message exactly once; the reply to answer with.

    `follow_up`: the message was parked earlier; its reply goes to the resident through the outbox
    (customer-service message) because WeChat's request is long answered. `stamp`: the callback URL's
    (timestamp, nonce, signature), recorded with the delivery; `unit_of_work.Replayed` when it was used
    for another message.
    """
    from chalicelib.domain.router import Notify, load_actions
    from chalicelib.store import unit_of_work
    from chalicelib.store.ports import DynamoPorts, account_rules

    account_id = account.view.account_id
    delivery_key = f"{account_id}#{message.dedupe_key}"
    decision = load_actions().decide(message, account.view, DynamoPorts(), now, account_rules(account_id))
    effects = _with_sender_quota(account.view, message.openid, decision.effects, now)
    if follow_up and decision.reply.text:
        effects += (Notify(account_id, message.openid, "reply", decision.reply.text),)
    try:
        try:
            outbox_ids = unit_of_work.commit(delivery_key, decision.reply, effects, now, stamp)
            reply = decision.reply
        except (unit_of_work.DuplicateNeed, unit_of_work.Refused, unit_of_work.StaleState) as declined:
            # The resident's need is already open (point to it), an effect said no (the last delivery
            # places are gone), or a request changed under us: answer so, keep the effects that do not
            # depend on it (an address just given), and record the delivery with that answer.
            from chalicelib.domain.messages import Reply
            from chalicelib.domain.request_actions import duplicate_reply
            from chalicelib.domain.router import NewRequest, ReserveCapacity, Transition

            if isinstance(declined, unit_of_work.DuplicateNeed):
                reply = duplicate_reply(declined.number)
            elif isinstance(declined, unit_of_work.Refused):
                reply = Reply(text=declined.reply)
            else:
                reply = Reply(text="纸条的状态刚有变化，请回复“我的纸条”查看后再试。")
            effects = tuple(e for e in decision.effects if not isinstance(e, (NewRequest, ReserveCapacity, Transition)))
            if follow_up and reply.text:
                effects += (Notify(account_id, message.openid, "reply", reply.text),)
            outbox_ids = unit_of_work.commit(delivery_key, reply, effects, now, stamp)
    except unit_of_work.Duplicate:
        unit_of_work.remember_stamp(stamp, delivery_key, now)  # a retry's new URL is used up too
        log.event(LOG, "repeated delivery answered with the first reply", delivery=message.dedupe_key)
        reply, outbox_ids = unit_of_work.stored_reply(delivery_key), []
    if outbox_ids:
        from chalicelib.jobs.outbox import enqueue

        enqueue(outbox_ids)
    log.event(LOG, "callback handled", kind=message.kind, event=message.event, follow_up=follow_up,
              effects=[type(e).__name__ for e in effects])
    return reply


def _with_sender_quota(account_view, openid: str, effects: tuple, now: datetime) -> tuple:
    """A resident's new 便民纸条 counts against their limits (and is refused while they are blocked): the
    quota goes into the filing's own transaction, so it costs no extra request."""
    from chalicelib.domain.limits import sender_quota
    from chalicelib.domain.router import NewRequest
    from chalicelib.store.windows import resident_limits

    if not any(isinstance(e, NewRequest) and e.actor == "resident" for e in effects):
        return effects
    return effects + (sender_quota(account_view.account_id, openid, now, resident_limits(account_view.district_id)),)


def park(account_id: str, message, error: Exception):
    """DynamoDB failed: keep the message on the `inbound` queue and tell the resident we have it.

    If even SQS refuses, the exception propagates: WeChat gets an error and retries, nothing is lost.
    """
    from chalicelib import queues
    from chalicelib.domain.messages import Reply, inbound_to_dict

    log.event(LOG, "storage failed; message parked on the inbound queue", logging.ERROR,
              error=f"{type(error).__name__}: {error}")
    queues.send("inbound", [{"account_id": account_id, "message": inbound_to_dict(message)}])
    return Reply(text=HOLDING_REPLY_TEXT)


def replay(body: dict) -> None:
    """Queue entry (`inbound`): handle a parked message now, answering through the outbox."""
    from chalicelib.domain.messages import inbound_from_dict
    from chalicelib.jobs.sqs import PermanentFailure
    from chalicelib.store.ports import gateway_account

    try:
        account_id, message = body["account_id"], inbound_from_dict(body["message"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentFailure(f"expected {{account_id, message}}: {exc}") from exc
    account = gateway_account(account_id)
    if account is None:
        raise PermanentFailure(f"unknown account {account_id}")
    with log.bind(account_id=account_id):
        handle(account, message, clock.now(), follow_up=True)


def _stamp(account_id: str, query: dict[str, str], now: datetime):
    """The callback URL's stamp, kept until its timestamp leaves the replay window (two days when the
    window is off: then the timestamp says nothing and a URL stays refused for as long as deliveries)."""
    from datetime import timedelta, timezone

    from chalicelib.store.unit_of_work import DELIVERY_TTL, Stamp
    from chalicelib.wechat.protocol import replay_stamp

    key, signed_at = replay_stamp(query)
    window = settings().replay_window_s
    if window:
        expires_at = datetime.fromtimestamp(signed_at, timezone.utc) + timedelta(seconds=window + 1)
    else:
        expires_at = now + DELIVERY_TTL
    return Stamp(f"{account_id}#{key}", expires_at)


def verify(account_id: str, query: dict[str, str]) -> Answer:
    """GET: WeChat's URL verification."""
    from chalicelib.store.ports import gateway_account
    from chalicelib.wechat.protocol import CallbackRejected, verify_url

    account = gateway_account(account_id)
    if account is None:
        return NOT_FOUND
    try:
        return Answer(200, verify_url(_keys(account), query, clock.now().timestamp(), settings().replay_window_s))
    except AccountNotReady:
        return NOT_READY
    except CallbackRejected as exc:
        log.event(LOG, "verification refused", logging.WARNING, reason=exc.reason)
        return Answer(exc.status, exc.reason)


def receive(account_id: str, query: dict[str, str], body: bytes, now: datetime | None = None) -> Answer:
    """POST: one message or event."""
    from chalicelib.store.ports import gateway_account
    from chalicelib.wechat.protocol import CallbackRejected, open_message, render_reply, seal_reply

    account = gateway_account(account_id)
    if account is None:
        return NOT_FOUND
    try:
        keys = _keys(account)
    except AccountNotReady:
        return NOT_READY
    now = now or clock.now()
    try:
        message, encrypted = open_message(keys, query, body, now.timestamp(), settings().replay_window_s)
    except CallbackRejected as exc:
        log.event(LOG, "callback refused", logging.WARNING, reason=exc.reason, status=exc.status)
        return Answer(exc.status, exc.reason)
    if message.kind == "unknown":
        return SUCCESS
    from chalicelib.store.unit_of_work import Replayed

    try:
        reply = handle(account, message, now, stamp=_stamp(account_id, query, now))
    except Replayed:
        log.event(LOG, "callback refused", logging.WARNING, reason="replayed signature", status=403)
        return Answer(403, "replayed callback")
    except _parkable() as exc:
        reply = park(account_id, message, exc)
    if reply.empty:
        return SUCCESS
    xml = render_reply(reply, message.openid, message.account_original_id, now.timestamp())
    if encrypted:
        xml = seal_reply(keys, xml, query.get("timestamp", str(int(now.timestamp()))), query.get("nonce", ""))
    return Answer(200, xml, "application/xml; charset=utf-8")
