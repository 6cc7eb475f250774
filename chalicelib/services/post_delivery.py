"""Sending the day's posts (每日发布) and reminding communities of tomorrow's: the use cases behind the
`daily-post` and `post-reminder` jobs.

Exactly once: the worker writes the account's day record with a condition BEFORE WeChat is called
(`store.posts.claim_day`); a second copy of the message, a retried worker or a second worker at once finds
it and sends nothing. A worker that died after WeChat accepted the send leaves a stale claim: the next
attempt takes it over and sends again with the same `clientmsgid`, which WeChat answers with 45065 and
the msg_id of the first send — recorded, nothing sent twice.

Subscription accounts (订阅号) mass-send once a day. Service accounts (服务号) mass-send while their four a
month last; when WeChat answers 45028 they fall back to `freepublish/submit`, which does not notify
followers — the day records a plain note the console shows.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib import bootstrap, log
from chalicelib.config import settings
from chalicelib.domain import dates, publishing as pub
from chalicelib.domain.errors import NotFound, PermanentFailure

LOG = log.get_logger("services.post_delivery")
QUEUE = "posts"
LEASE = timedelta(minutes=5)  # longer than the worker's timeout, shorter than the queue's visibility timeout
QUOTA_EXHAUSTED = 45028  # has no masssend quota
CLIENTMSGID_EXISTS = 45065  # this clientmsgid was sent already: the answer carries its msg_id
RETRYABLE = frozenset({-1, 45009, 45047, 40001, 40014, 42001})  # busy, rate limits, tokens: try again later


class _Repository:
    """The publishing repository, reached through the composition root (`bootstrap.posts()`)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(bootstrap.posts(), name)


repo = _Repository()


def _community_accounts() -> list:
    return repo.community_accounts(settings().district_id)


def named_day(day: str | None) -> date | None:
    """A job's `day` (YYYY-MM-DD) from its event, or None; a malformed one can never succeed."""
    try:
        return date.fromisoformat(day) if day else None
    except ValueError as exc:
        raise PermanentFailure(f"day must be YYYY-MM-DD: {exc}") from exc


def current_slot(now: datetime) -> str:
    """The half hour a run belongs to (北京时间 HH:MM): `daily-post` runs at :00 and :30."""
    local = now.astimezone(dates.SHANGHAI)
    return f"{local.hour:02d}:{'30' if local.minute >= 30 else '00'}"


def enqueue_day(now: datetime, day: date | None = None) -> dict[str, Any]:
    """The scheduler, every half hour: one message per account with an approved post whose send time has
    come (all of them when a day is named: a catch-up run), sent ten per SendMessageBatch. An account with
    no approved post is recorded `missed` in the run of its daily post time (Account.post_time, else 08:00),
    once; a post approved later still goes (a claim may replace `missed`)."""
    explicit = day is not None
    target = day or dates.local_date(now)
    slot_now = "99:99" if explicit else current_slot(now)
    accounts = {a.account_id: a for a in _community_accounts()}
    approved: dict[str, tuple[str, str, str]] = {}
    for account_id, post_id, state, slot in repo.approved_on(target):
        if account_id not in accounts:
            continue
        held = approved.get(account_id)
        if held is None or (state != "scheduled", slot) < (held[1] != "scheduled", held[2]):
            approved[account_id] = (post_id, state, slot)
    messages = [{"account_id": a, "day": target.isoformat(), "post_id": post_id,
                 "account_type": accounts[a].account_type, "community_id": accounts[a].community_id}
                for a, (post_id, state, slot) in sorted(approved.items()) if state == "scheduled" and slot <= slot_now]
    queued = bootstrap.fan_out(QUEUE, messages)  # in shards past 1,000 accounts: ~100 batches an invocation
    missed = repo.mark_missed(((a, acc.community_id) for a, acc in accounts.items() if a not in approved
                               and (explicit or (acc.post_time or pub.DEFAULT_SLOT) == slot_now)), target, now)
    log.event(LOG, "daily posts queued", day=target.isoformat(), queued=queued, missed=missed)
    return {"day": target.isoformat(), "queued": queued, "missed": missed, "accounts": len(accounts)}


def _parse(message: dict) -> tuple[str, date, str, str, str | None]:
    try:
        return (str(message["account_id"]), date.fromisoformat(message["day"]), str(message["post_id"]),
                str(message.get("account_type") or "subscription"), message.get("community_id"))
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentFailure(f"expected {{account_id, day, post_id}}: {exc}") from exc


def send_post(message: dict) -> str:
    """The worker, for one account's day. Returns what happened (for logs and tests)."""
    account_id, day, post_id, account_type, community_id = _parse(message)
    now = bootstrap.now()
    with log.bind(account_id=account_id):
        try:
            post = repo.get_post(post_id)  # DynamoDB request 1
        except NotFound:
            log.event(LOG, "post gone before sending", logging.WARNING, post_id=post_id)
            return "gone"
        if post.state != "scheduled" or post.planned_day != day or post.account_id != account_id:
            return f"skipped:{post.state}"  # sent already, withdrawn, or moved to another day
        record = repo.claim_day(account_id, day, post_id, community_id, now, LEASE)  # request 2 (or Claimed)
        if record is None:
            return "done"
        return _send(record, post, account_type, now)


def _send(record, post: pub.Post, account_type: str, now: datetime) -> str:
    wx = bootstrap.wechat(post.account_id)
    WeChatApiError = bootstrap.wechat_errors().api  # noqa: N806 - an exception class, named as one
    try:
        media_id = wx.draft.add([a.to_wechat() for a in post.articles])
        mode, note, job_id = "mass", None, None
        try:
            job_id = wx.mass.send_article_to_all(media_id, record.clientmsgid).get("msg_id")
        except WeChatApiError as exc:
            if exc.errcode == CLIENTMSGID_EXISTS:  # the first attempt's send went out: recovered, not resent
                job_id = exc.body.get("msg_id")
                log.event(LOG, "mass send recovered by clientmsgid", msg_id=job_id)
            elif exc.errcode == QUOTA_EXHAUSTED and account_type == "service":
                answer = wx.freepublish.submit(media_id)
                job_id, mode, note = answer.get("publish_id"), "freepublish", pub.FREEPUBLISH_NOTE
            else:
                raise
    except WeChatApiError as exc:
        error = f"{exc.errcode}: {exc.errmsg}"
        if exc.errcode in RETRYABLE:
            repo.release_day(record, now, error)
            raise  # SQS retries it with back-off; after the last try `give_up` records the failure
        reason = "今日群发次数已用完（可能已在微信后台群发）" if exc.errcode == QUOTA_EXHAUSTED else f"微信拒绝发送（{error}）"
        repo.finish_day(record, "failed", now, error=reason, post_state="failed", event={
            "kind": "system", "action": "failed", "label": "发送失败", "from": "scheduled", "to": "failed",
            "by": "daily-post", "at": now.isoformat(), "comment": reason})
        log.event(LOG, "daily post refused by WeChat", logging.ERROR, error=error)
        return "failed"
    # Transport errors (timeouts) propagate with the claim kept: the retry after the lease recovers by clientmsgid.
    repo.finish_day(record, "sent", now, mode=mode, job_id=str(job_id or ""), media_id=media_id, note=note,
                    post_state="sent", event={  # DynamoDB request 3 (one transaction)
                        "kind": "system", "action": "sent", "from": "scheduled", "to": "sent", "by": "daily-post",
                        "label": "已群发" if mode == "mass" else "已发表（不推送通知）", "at": now.isoformat(),
                        "comment": note or ""})
    log.event(LOG, "daily post sent", mode=mode, job_id=job_id)
    return mode


def give_up(message: dict, error: str) -> None:
    """After the last attempt: the day and the post show as failed (calendar, bulletin)."""
    try:
        account_id, day, post_id, _type, community_id = _parse(message)
    except PermanentFailure:
        return
    repo.fail_day(account_id, day, post_id, community_id, error, bootstrap.now())


def remind(now: datetime, day: date | None = None) -> dict[str, Any]:
    """`post-reminder` (17:00 the day before): each community with no approved post for tomorrow — its
    social workers and director — gets a staff notice (the console's badge; WeChat once staff bind it).
    Notice ids are per community and day, so a second run changes nothing."""
    target = day or dates.local_date(now) + timedelta(days=1)
    approved = {account_id for account_id, _p, state, _s in repo.approved_on(target) if state == "scheduled"}
    notices = []
    for account in _community_accounts():
        if account.account_id in approved:
            continue
        scope = f"community#{account.community_id}"
        for role in ("social_worker", "director"):
            for username in repo.staff_to_tell(scope, role):
                notices.append(repo.notice(username, f"{target.isoformat()}#reminder#{account.community_id}",
                                           "reminder", f"{target:%m月%d日} 还没有已批准的稿件，请尽快安排（{account.name}）",
                                           now, community_id=account.community_id))
    told = repo.save_notices(notices)
    communities = len({n.community_id for n in notices})
    log.event(LOG, "post reminders recorded", day=target.isoformat(), communities=communities, notices=told)
    return {"day": target.isoformat(), "communities": communities, "notices": told}
