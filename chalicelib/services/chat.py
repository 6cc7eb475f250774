"""One WeChat callback (聊天), from bytes to the answer: the use case behind `/wechat/{account_id}`.

Look up the account (cached), verify and open the message (`wechat.protocol`, a pure codec), let the
router decide, commit the delivery and its effects exactly once through the unit of work (which hands
outbound messages to the outbox queue), render and seal the reply. WeChat gives us five seconds; the
warm path makes one DynamoDB write (two when it files a 便民纸条).
"""
from __future__ import annotations

import contextvars
import logging
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timedelta, timezone

from chalicelib import bootstrap, log, queues
from chalicelib.config import settings
from chalicelib.domain.effects import ClaimDelivery, NewRequest, Notify, ReserveCapacity, declined_effects
from chalicelib.domain.errors import (
    Duplicate,
    DuplicateNeed,
    OverLimit,
    PermanentFailure,
    Refused,
    Replayed,
    SecretsMissing,
    SecretsUnavailable,
    StaleState,
    StorageUnavailable,
)
from chalicelib.domain.filing import duplicate_reply, with_sender_quota, without_capacity
from chalicelib.domain.handlers import ROUTER
from chalicelib.domain.limits import sender_quota
from chalicelib.domain.messages import NO_REPLY, Reply, inbound_from_dict, inbound_to_dict
from chalicelib.domain.ports import Stamp
from chalicelib.domain.records import record
from chalicelib.wechat.protocol import (
    AccountKeys,
    CallbackRejected,
    open_message,
    render_reply,
    replay_stamp,
    seal_reply,
    verify_url,
)

LOG = log.get_logger("services.chat")


@record
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
    try:
        secrets = bootstrap.secrets().get(account.view.account_id)
        return AccountKeys(appid=account.appid, token=secrets.token, encoding_aes_key=secrets.encoding_aes_key,
                           mode=account.encryption_mode)
    except SecretsUnavailable:
        raise  # SSM did not answer: the caller parks the callback (a DomainError, hence a ValueError too)
    except (SecretsMissing, ValueError) as exc:
        log.event(LOG, "account not ready: secrets missing or unfit", logging.ERROR, error=str(exc))
        raise AccountNotReady(str(exc)) from None


HOLDING_REPLY_TEXT = "已收到您的消息，系统正忙，处理好后会马上回复您。"


def _parkable() -> tuple[type[BaseException], ...]:
    """The store failed (throttled, timed out, down): park the message and answer it later."""
    return bootstrap.storage_errors() + (StorageUnavailable,)


def handle(account, message, now: datetime, follow_up: bool = False, stamp: Stamp | None = None):
    """Route and commit one message exactly once; the reply to answer with.

    `follow_up`: the message was parked earlier; its reply goes to the resident through the outbox
    (customer-service message) because WeChat's request is long answered. A parked message whose
    original copy had been committed after all gets that first reply (with its number) through the
    outbox instead, once (`FOLLOW_UP` claims it). `stamp`: the callback URL's (timestamp, nonce,
    signature), recorded with the delivery; `Replayed` when it already carried another message.
    """
    account_id = account.view.account_id
    delivery_key = f"{account_id}#{message.dedupe_key}"
    unit_of_work = bootstrap.unit_of_work()
    if follow_up and unit_of_work.delivered(delivery_key):  # checked before anything is decided or numbered
        return _follow_up_first_reply(account_id, message, delivery_key)
    ports = bootstrap.ports()
    decision = ROUTER.decide(message, account.view, ports, now, ports.rules(account_id))
    if message.openid:  # a resident's own 便民纸条 count against their limits (domain/limits.py)
        decision = with_sender_quota(decision, sender_quota(account_id, message.openid, now,
                                                            ports.resident_limits(account.view.district_id)))
    effects = decision.effects
    if follow_up and decision.reply.text:
        effects += (Notify(account_id, message.openid, "reply", decision.reply.text),
                    ClaimDelivery(delivery_key + FOLLOW_UP, now))
    try:
        try:
            unit_of_work.commit(delivery_key, decision.reply, effects, now, stamp)
            reply = decision.reply
        except (DuplicateNeed, Refused, StaleState) as declined:
            # The resident's need is already open (point to it), the meal's last places went meanwhile
            # (filed all the same, flagged), or a request changed under us: answer so, keep the effects
            # that do not depend on it (an address just given), and record the delivery with that answer.
            if isinstance(declined, OverLimit):  # a flood, or a sender staff blocked: nothing is filed
                reply = Reply(text=declined.reply)
                effects = declined_effects(decision.effects, refused=False)
            elif isinstance(declined, Refused) and any(isinstance(e, ReserveCapacity) and e.otherwise
                                                       for e in decision.effects):
                # places with a fallback (an activity's waiting list): its reply, its effects instead
                reply, effects = Reply(text=declined.reply), declined_effects(decision.effects, refused=True)
            elif isinstance(declined, Refused) and not any(isinstance(e, NewRequest) for e in decision.effects):
                reply, effects = Reply(text=declined.reply), declined_effects(decision.effects, refused=False)
            elif isinstance(declined, Refused):
                decision = without_capacity(decision, declined.reply)
                reply, effects = decision.reply, decision.effects
            else:
                reply = duplicate_reply(declined.number) if isinstance(declined, DuplicateNeed) else Reply(
                    text="纸条的状态刚有变化，请回复“我的纸条”查看后再试。")
                effects = declined_effects(decision.effects, refused=False)
            if follow_up and reply.text:
                effects += (Notify(account_id, message.openid, "reply", reply.text),
                            ClaimDelivery(delivery_key + FOLLOW_UP, now))
            unit_of_work.commit(delivery_key, reply, effects, now, stamp)
    except Duplicate:
        if follow_up:  # committed by a copy that raced this replay
            return _follow_up_first_reply(account_id, message, delivery_key)
        unit_of_work.remember_stamp(stamp, delivery_key, now)  # a retry's new URL is used up too
        log.event(LOG, "repeated delivery answered with the first reply", delivery=message.dedupe_key)
        reply = unit_of_work.stored_reply(delivery_key)
    log.event(LOG, "callback handled", kind=message.kind, event=message.event, follow_up=follow_up,
              effects=[type(e).__name__ for e in effects])
    return reply


FOLLOW_UP = "#follow-up"  # the delivery key suffix that makes a parked message's follow-up happen once


def _follow_up_first_reply(account_id: str, message, delivery_key: str) -> Reply:
    """A parked copy of a message that was committed all the same: the resident got only the holding
    reply on this copy, so the first copy's reply goes out through the outbox — once, however often the
    replay runs."""
    unit_of_work = bootstrap.unit_of_work()
    reply = unit_of_work.stored_reply(delivery_key)
    if reply.text:
        try:
            unit_of_work.commit(delivery_key + FOLLOW_UP, NO_REPLY,
                                (Notify(account_id, message.openid, "reply", reply.text),), bootstrap.now())
        except Duplicate:
            pass  # already followed up
    log.event(LOG, "parked copy of a committed message: first reply followed up", delivery=message.dedupe_key)
    return reply


class BudgetSpent(TimeoutError):
    """The callback's storage work did not finish within its budget (WeChat waits 5 s, then retries)."""


def within_budget(fn, *args):
    """Run the callback's work, but answer within `WECHAT_CALLBACK_BUDGET_S` (default 4 s) whatever the
    store does: past it, `BudgetSpent`, and the caller parks the message. Work still running may yet
    commit; the parked copy then meets its delivery record and follows up with that first reply, once."""
    budget = settings().callback_budget_s
    if budget <= 0:
        return fn(*args)
    future = bootstrap.CALLBACK_POOL.submit(contextvars.copy_context().run, fn, *args)
    try:
        return future.result(timeout=budget)
    except FutureTimeout:
        raise BudgetSpent(f"callback work took longer than {budget} s") from None


def park(account_id: str, message, error: Exception):
    """DynamoDB failed: keep the message on the `inbound` queue and tell the resident we have it.

    If even SQS refuses, the exception propagates: WeChat gets an error and retries, nothing is lost.
    """
    log.event(LOG, "storage failed; message parked on the inbound queue", logging.ERROR,
              error=f"{type(error).__name__}: {error}")
    queues.send("inbound", [{"account_id": account_id, "message": inbound_to_dict(message)}])
    return Reply(text=HOLDING_REPLY_TEXT)


MAX_RAW_BODY = 64 * 1024  # WeChat's callbacks are a few KB; a parked raw body must fit an SQS message


def park_raw(account_id: str, query: dict[str, str], body: bytes, now: datetime, error: Exception) -> Answer:
    """SSM failed, so the callback can be neither checked nor opened: keep it as it came (query, body, the
    time it came) on the `inbound` queue and answer an empty 200, which WeChat takes as delivered. The
    worker checks and opens it once SSM answers (`replay`), against the time it came, and answers the
    resident through the outbox; a forged one is dropped there. If even SQS refuses, the error
    propagates: WeChat gets an error and retries, nothing is lost."""
    if len(body) > MAX_RAW_BODY:
        return Answer(413, "body too large")
    log.event(LOG, "SSM failed; raw callback parked on the inbound queue", logging.ERROR,
              error=f"{type(error).__name__}: {error}")
    queues.send("inbound", [{"account_id": account_id, "raw": {
        "query": dict(query), "body": body.decode("utf-8", "replace"), "received_at": now.isoformat()}}])
    return SUCCESS


def _replay_raw(account_id: str, raw: dict) -> None:
    account = bootstrap.ports().account(account_id)
    if account is None:
        raise PermanentFailure(f"unknown account {account_id}")
    try:
        query, body = dict(raw["query"]), str(raw["body"]).encode("utf-8")
        received_at = datetime.fromisoformat(raw["received_at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentFailure(f"expected raw {{query, body, received_at}}: {exc}") from exc
    try:
        keys = _keys(account)  # SSM still failing: SecretsUnavailable, and SQS tries again with back-off
    except AccountNotReady as exc:
        raise PermanentFailure(f"account {account_id} not ready: {exc}") from exc
    with log.bind(account_id=account_id):
        try:
            message, _encrypted = open_message(keys, query, body, received_at.timestamp(),
                                               settings().replay_window_s)
        except CallbackRejected as exc:
            log.event(LOG, "parked raw callback refused", logging.WARNING, reason=exc.reason, status=exc.status)
            return
        if message.kind != "unknown":
            handle(account, message, bootstrap.now(), follow_up=True)


def replay(body: dict) -> None:
    """Queue entry (`inbound`): handle a parked message now, answering through the outbox."""
    if isinstance(body.get("raw"), dict):
        _replay_raw(str(body.get("account_id")), body["raw"])
        return
    try:
        account_id, message = body["account_id"], inbound_from_dict(body["message"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentFailure(f"expected {{account_id, message}}: {exc}") from exc
    account = bootstrap.ports().account(account_id)
    if account is None:
        raise PermanentFailure(f"unknown account {account_id}")
    with log.bind(account_id=account_id):
        handle(account, message, bootstrap.now(), follow_up=True)


def _stamp(account_id: str, query: dict[str, str], now: datetime) -> Stamp:
    """The callback URL's stamp, kept until its timestamp leaves the replay window (two days when the
    window is off: then the timestamp says nothing and a URL stays refused for as long as deliveries)."""
    key, signed_at = replay_stamp(query)
    window = settings().replay_window_s
    if window:
        expires_at = datetime.fromtimestamp(signed_at, timezone.utc) + timedelta(seconds=window + 1)
    else:
        expires_at = now + timedelta(days=2)
    return Stamp(f"{account_id}#{key}", expires_at)


def verify(account_id: str, query: dict[str, str]) -> Answer:
    """GET: WeChat's URL verification."""
    account = bootstrap.ports().account(account_id)
    if account is None:
        return NOT_FOUND
    try:
        return Answer(200, verify_url(_keys(account), query, bootstrap.now().timestamp(), settings().replay_window_s))
    except AccountNotReady:
        return NOT_READY
    except SecretsUnavailable as exc:  # WeChat's URL check is a person's click: they try again
        log.event(LOG, "verification deferred: SSM unavailable", logging.ERROR, error=str(exc))
        return NOT_READY
    except CallbackRejected as exc:
        log.event(LOG, "verification refused", logging.WARNING, reason=exc.reason)
        return Answer(exc.status, exc.reason)


def receive(account_id: str, query: dict[str, str], body: bytes, now: datetime | None = None) -> Answer:
    """POST: one message or event."""
    account = bootstrap.ports().account(account_id)
    if account is None:
        return NOT_FOUND
    now = now or bootstrap.now()
    try:
        keys = _keys(account)
    except AccountNotReady:
        return NOT_READY
    except SecretsUnavailable as exc:
        return park_raw(account_id, query, body, now, exc)
    try:
        message, encrypted = open_message(keys, query, body, now.timestamp(), settings().replay_window_s)
    except CallbackRejected as exc:
        log.event(LOG, "callback refused", logging.WARNING, reason=exc.reason, status=exc.status)
        return Answer(exc.status, exc.reason)
    if message.kind == "unknown":
        return SUCCESS
    try:
        reply = within_budget(handle, account, message, now, False, _stamp(account_id, query, now))
    except Replayed:
        log.event(LOG, "callback refused", logging.WARNING, reason="replayed signature", status=403)
        return Answer(403, "replayed callback")
    except _parkable() as exc:
        reply = park(account_id, message, exc)
    except BudgetSpent as exc:  # the store is slow: answer now, and let the parked copy follow up
        reply = park(account_id, message, exc)
    if reply.empty:
        return SUCCESS
    xml = render_reply(reply, message.openid, message.account_original_id, now.timestamp())
    if encrypted:
        xml = seal_reply(keys, xml, query.get("timestamp", str(int(now.timestamp()))), query.get("nonce", ""))
    return Answer(200, xml, "application/xml; charset=utf-8")
