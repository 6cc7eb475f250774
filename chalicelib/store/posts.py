"""Posts (稿件), their history (revisions and audit events), each account's day (the delivery record and
its outcome), the district's check policy, and staff notices — with the repository functions the
publishing service and jobs use. Every access is a GetItem, a Query on a key or index, or a conditional
write (see docs/data-model.md)."""
from __future__ import annotations

import json
import secrets
import zlib
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Iterator

from pynamodb.attributes import (
    BinaryAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute,
)
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib import clock
from chalicelib.domain import publishing as pub
from chalicelib.domain.errors import ConflictError, NotFound, StaleState
from chalicelib.domain.staff_alerts import window_key, window_start
from chalicelib.store.accounts import Account
from chalicelib.store.base import TableMeta, index_meta, table_meta, transaction_connection
from chalicelib.store.community_months import tally_update
from chalicelib.store.staff_alerts import alert_item
from chalicelib.store.org import Community, SubDistrict
from chalicelib.store.staff import StaffUser

NOTICE_TTL = timedelta(days=60)
CALENDAR_FIELDS = ["topic", "state", "slot", "community_id", "post_id"]


def _include(name: str, fields: list[str]) -> TableMeta:
    meta = index_meta(name)
    meta.projection = IncludeProjection(fields)
    return meta


def pack(data: Any) -> bytes:
    """JSON, zlib-compressed: a post's HTML shrinks several times, keeping items far below 400 KB."""
    return zlib.compress(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 6)


def unpack(raw: bytes | None) -> Any:
    return json.loads(zlib.decompress(raw).decode("utf-8")) if raw else None


# ---- the organisation, as publishing needs it ------------------------------------------------------

def community(community_id: str) -> Community | None:
    """The community (its sub-district and district): GetItem."""
    try:
        return Community.get(community_id)
    except Community.DoesNotExist:
        return None


def subdistrict_ids(district_id: str) -> list[str]:
    return [s.subdistrict_id for s in SubDistrict.query(district_id)]


def post_time(account_id: str) -> str:
    """The account's daily post time (HH:MM), or the district's default: GetItem."""
    try:
        return Account.get(account_id).post_time or pub.DEFAULT_SLOT
    except Account.DoesNotExist:
        return pub.DEFAULT_SLOT


def set_post_time(account_id: str, value: str, now: datetime) -> None:
    """Set the account's daily post time: one UpdateItem, on an account that exists."""
    try:
        Account(account_id).update(actions=[Account.post_time.set(value), Account.updated_at.set(now)],
                                   condition=Account.account_id.exists())
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise NotFound() from exc
        raise


def community_accounts(district_id: str) -> list[Account]:
    """The district's community accounts (the district's own account publishes elsewhere): one Query, of
    the fields the scheduler and the reminder read (a 10,000-account district is ~10 pages, not ~40)."""
    return [a for a in Account.by_district.query(district_id, attributes_to_get=DELIVERY_FIELDS) if a.community_id]


DELIVERY_FIELDS = ["account_id", "community_id", "account_type", "post_time", "name"]


# ---- posts ------------------------------------------------------------------------------------------

class PostsByAccountDay(GlobalSecondaryIndex):
    Meta = _include("by_account_day", CALENDAR_FIELDS)
    account_id = UnicodeAttribute(hash_key=True)
    planned_day = UnicodeAttribute(range_key=True)


class PostsByDay(GlobalSecondaryIndex):
    Meta = _include("by_day", ["state", "account_id", "community_id", "slot"])
    planned_day = UnicodeAttribute(hash_key=True)
    post_id = UnicodeAttribute(range_key=True)


class PostsByDesk(GlobalSecondaryIndex):
    """Sparse: a post waiting for somebody (`desk` = state#community, or second_review#sub-district)."""

    Meta = _include("by_desk", CALENDAR_FIELDS + ["account_id"])
    desk = UnicodeAttribute(hash_key=True)
    planned_day = UnicodeAttribute(range_key=True)


class PostItem(Model):
    """A post: one send of one account on a planned day, with its articles (compressed JSON)."""

    Meta = table_meta("posts")
    post_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    community_id = UnicodeAttribute()
    subdistrict_id = UnicodeAttribute()
    district_id = UnicodeAttribute()
    topic = UnicodeAttribute()
    planned_day = UnicodeAttribute()  # YYYY-MM-DD, Asia/Shanghai
    slot = UnicodeAttribute(default=pub.DEFAULT_SLOT)
    state = UnicodeAttribute()
    desk = UnicodeAttribute(null=True)
    articles = BinaryAttribute(legacy_encoding=False, null=True)
    expires_on = UnicodeAttribute(null=True)
    revision = NumberAttribute(default=0)
    reviewed_revision = NumberAttribute(default=0)
    authors = UnicodeAttribute(default="[]")
    checklist = UnicodeAttribute(default="[]")
    created_by = UnicodeAttribute(default="")
    updated_at = UTCDateTimeAttribute(default=clock.now)
    version = NumberAttribute(default=0)  # optimistic lock of staff edits (the daily job's updates bump it too)
    state_since = UTCDateTimeAttribute(null=True)  # when it entered its state (review waits for the bulletin)

    by_account_day = PostsByAccountDay()
    by_day = PostsByDay()
    by_desk = PostsByDesk()


def desk_of(post: pub.Post) -> str | None:
    if post.state == "second_review":
        return f"second_review#{post.subdistrict_id}"
    if post.state in ("topic", "draft", "first_review"):
        return f"{post.state}#{post.community_id}"
    return None


def to_domain(item: PostItem) -> pub.Post:
    return pub.Post(
        post_id=item.post_id, account_id=item.account_id, community_id=item.community_id,
        subdistrict_id=item.subdistrict_id, district_id=item.district_id, topic=item.topic,
        planned_day=date.fromisoformat(item.planned_day), slot=item.slot, state=item.state,
        articles=tuple(pub.ArticleDraft.from_dict(a) for a in (unpack(item.articles) or [])),
        expires_on=date.fromisoformat(item.expires_on) if item.expires_on else None,
        revision=int(item.revision), reviewed_revision=int(item.reviewed_revision),
        authors=tuple(json.loads(item.authors)), checklist=tuple(json.loads(item.checklist)),
        created_by=item.created_by, version=int(item.version or 0), state_since=item.state_since)


def _fill(item: PostItem, post: pub.Post, now: datetime) -> PostItem:
    item.account_id, item.community_id = post.account_id, post.community_id
    item.subdistrict_id, item.district_id = post.subdistrict_id, post.district_id
    item.topic, item.planned_day, item.slot, item.state = post.topic, post.planned_day.isoformat(), post.slot, post.state
    item.desk = desk_of(post)
    item.articles = pack([a.to_dict() for a in post.articles]) if post.articles else None
    item.expires_on = post.expires_on.isoformat() if post.expires_on else None
    item.revision, item.reviewed_revision = post.revision, post.reviewed_revision
    item.authors, item.checklist = json.dumps(list(post.authors)), json.dumps(list(post.checklist))
    item.created_by, item.updated_at = post.created_by, now
    item.state_since = post.state_since
    return item


def new_post_id(day: date) -> str:
    return f"P{day:%Y%m%d}-{secrets.token_hex(4)}"


def get_post(post_id: str) -> pub.Post:
    try:
        return to_domain(PostItem.get(post_id, consistent_read=True))
    except PostItem.DoesNotExist:
        raise NotFound("没有这篇稿件") from None


def posts_of_account(account_id: str, first: date, last: date) -> list[dict[str, Any]]:
    """The calendar: an account's posts planned between two days (projected fields only)."""
    return [{"post_id": i.post_id, "topic": i.topic, "state": i.state, "slot": i.slot,
             "planned_day": i.planned_day, "community_id": i.community_id}
            for i in PostItem.by_account_day.query(account_id, PostItem.planned_day.between(
                first.isoformat(), last.isoformat()))]


def posts_on_day(account_id: str, day: date) -> list[pub.Post]:
    """An account's posts for one day (the time check's conflicts)."""
    ids = [i.post_id for i in PostItem.by_account_day.query(account_id, PostItem.planned_day == day.isoformat())]
    return [get_post(i) for i in ids]


def approved_on(day: date) -> Iterator[tuple[str, str, str, str]]:
    """(account_id, post_id, state, slot) of every post planned for `day` that is approved or already out:
    one Query on `by_day` (its projection holds only these few fields)."""
    for item in PostItem.by_day.query(day.isoformat(), filter_condition=PostItem.state.is_in(
            "scheduled", "sent", "failed")):
        yield item.account_id, item.post_id, item.state, item.slot


def desk(desk_key: str, limit: int = 200) -> list[dict[str, Any]]:
    return [{"post_id": i.post_id, "topic": i.topic, "state": i.state, "slot": i.slot,
             "planned_day": i.planned_day, "community_id": i.community_id, "account_id": i.account_id}
            for i in PostItem.by_desk.query(desk_key, limit=limit)]


def desk_count(desk_key: str) -> int:
    return PostItem.by_desk.count(desk_key)


def staff_to_tell(scope_key: str, role: str) -> list[str]:
    """Usernames of a scope's staff in a role (the next person to act): one Query on `by_scope`."""
    return [u.username for u in StaffUser.by_scope.query(scope_key) if u.role == role]


# ---- history: revisions and audit events (append-only) ----------------------------------------------

class PostHistory(Model):
    """A post's history: `rev#000003` (a revision's snapshot) and `ev#<time>#<random>` (an audit event)."""

    Meta = table_meta("post_history")
    post_id = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()  # revision / event
    body = BinaryAttribute(legacy_encoding=False)
    at = UTCDateTimeAttribute(default=clock.now)


def _event_item(post_id: str, event: dict[str, Any], now: datetime) -> PostHistory:
    return PostHistory(post_id, f"ev#{now.strftime('%Y%m%dT%H%M%S.%f')}#{secrets.token_hex(3)}", kind="event",
                       body=pack(event), at=now)


def _revision_item(post_id: str, revision: dict[str, Any], now: datetime) -> PostHistory:
    return PostHistory(post_id, f"rev#{int(revision['revision']):06d}", kind="revision", body=pack(revision), at=now)


def history(post_id: str) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """(events in order, revisions by number): one Query."""
    events, revisions = [], {}
    for item in PostHistory.query(post_id):
        body = unpack(item.body)
        if item.kind == "revision":
            revisions[int(body["revision"])] = body
        else:
            events.append(body)
    events.sort(key=lambda e: e.get("at", ""))
    return events, revisions


def save_post(plan: pub.StepPlan, now: datetime, expected_version: int | None,
              notices: Iterable["StaffNotice"] = ()) -> pub.Post:
    """Write a planned change in one transaction: the post (optimistic lock on its version), its audit
    event, the new revision if any, the notices. `expected_version` None: a new post."""
    post = plan.post
    item = _fill(PostItem(post.post_id), post, now)
    if expected_version is None:
        condition = PostItem.post_id.does_not_exist()
        item.version = 1
    else:
        condition = PostItem.version == expected_version
        item.version = expected_version + 1
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.save(item, condition=condition)
            if plan.event:
                tx.save(_event_item(post.post_id, plan.event, now))
            if plan.new_revision:
                tx.save(_revision_item(post.post_id, plan.new_revision, now),
                        condition=PostHistory.entry_id.does_not_exist())
            notices = list(notices)
            for notice in notices:
                tx.save(notice)
            if plan.tally is not None:  # a review step: its wait onto the community's month (the bulletin)
                month_item, month_actions = tally_update(post.community_id, plan.tally)
                tx.update(month_item, actions=month_actions)
            review = [n for n in notices if n.kind == "review"]
            if review:  # the reviewers also hear of it in WeChat, in their next alert digest
                tx.save(review_alert([n.username for n in review], review[0].text, post.post_id, now))
    except TransactWriteError as exc:
        reasons = [getattr(r, "code", None) for r in (getattr(exc, "cancellation_reasons", None) or [])]
        if "ConditionalCheckFailed" in reasons:
            raise StaleState("稿件已被别人修改，请刷新后再试") from exc
        raise
    return to_domain(item)


def review_alert(usernames: list[str], text: str, post_id: str, now: datetime):
    """The alert entry of a post waiting for review (`services.staff_alerts` digests it)."""
    return alert_item(window_key(window_start(now)), "review", text, now, ref=post_id, usernames=usernames)


def record_system_event(post_id: str, event: dict[str, Any], now: datetime) -> None:
    _event_item(post_id, event, now).save()


# ---- the account's day: the delivery record and the outcome (for the monthly bulletin) ---------------

class PostDaysByJob(GlobalSecondaryIndex):
    """Sparse: `account_id#job_id` (mass send msg_id or publish_id) → the day, for WeChat's job reports."""

    Meta = index_meta("by_job", keys_only=True)
    job_key = UnicodeAttribute(hash_key=True)


class PostDay(Model):
    """One account's publishing day: written with a condition BEFORE WeChat is called (exactly once), then
    its outcome — sent / filtered / failed / missed — which the monthly bulletin reads by month."""

    Meta = table_meta("post_days")
    account_id = UnicodeAttribute(hash_key=True)
    day = UnicodeAttribute(range_key=True)  # YYYY-MM-DD, Asia/Shanghai
    community_id = UnicodeAttribute(null=True)
    post_id = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute()  # claimed / sent / filtered / failed / missed
    mode = UnicodeAttribute(null=True)  # mass / freepublish
    clientmsgid = UnicodeAttribute(null=True)
    claimed_at = UTCDateTimeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    job_key = UnicodeAttribute(null=True)
    job_id = UnicodeAttribute(null=True)
    media_id = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)  # e.g. a free publish does not notify followers
    error = UnicodeAttribute(null=True)
    report = UnicodeAttribute(null=True)  # WeChat's job report (JSON): status, counts, article URLs
    updated_at = UTCDateTimeAttribute(default=clock.now)

    by_job = PostDaysByJob()


class Claimed(Exception):
    """The day is being sent by another worker right now (its lease is fresh): retry later."""


def claim_day(account_id: str, day: date, post_id: str, community_id: str | None, now: datetime,
              lease: timedelta) -> PostDay | None:
    """Take the account's day before WeChat is called. Returns the claimed record, or None when the day is
    already done (sent / filtered / failed). A missed day can still be claimed (a post approved late);
    a claim older than `lease` (its worker died) is taken over — with the same clientmsgid.
    Raises `Claimed` when another worker holds a fresh claim."""
    record = PostDay(account_id, day.isoformat(), community_id=community_id, post_id=post_id, outcome="claimed",
                     clientmsgid=pub.clientmsgid(account_id, day), claimed_at=now, attempts=1, updated_at=now)
    try:
        record.save(condition=PostDay.account_id.does_not_exist() | (PostDay.outcome == "missed"))
        return record
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
    existing = PostDay.get(account_id, day.isoformat(), consistent_read=True)
    if existing.outcome in pub.FINAL_OUTCOMES:
        return None
    if existing.claimed_at and now - existing.claimed_at < lease:
        raise Claimed(f"{account_id} {day} is being sent (claimed at {existing.claimed_at.isoformat()})")
    try:
        existing.update(actions=[PostDay.claimed_at.set(now), PostDay.attempts.add(1), PostDay.updated_at.set(now)],
                        condition=(PostDay.outcome == "claimed") & (PostDay.claimed_at == existing.claimed_at))
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise Claimed(f"{account_id} {day}: another worker took it over") from exc
        raise
    return existing


def finish_day(record: PostDay, outcome: str, now: datetime, *, mode: str | None = None,
               job_id: str | None = None, media_id: str | None = None, note: str | None = None,
               error: str | None = None, post_state: str | None = None, event: dict | None = None) -> None:
    """The day's outcome and the post's state in one transaction (one request)."""
    actions = [PostDay.outcome.set(outcome), PostDay.updated_at.set(now)]
    for attr, value in ((PostDay.mode, mode), (PostDay.media_id, media_id), (PostDay.note, note),
                        (PostDay.error, error)):
        if value is not None:
            actions.append(attr.set(value))
    if job_id:
        actions += [PostDay.job_id.set(str(job_id)), PostDay.job_key.set(f"{record.account_id}#{job_id}")]
    with TransactWrite(connection=transaction_connection()) as tx:
        tx.update(record, actions=actions, condition=PostDay.outcome == "claimed")
        if post_state and record.post_id:
            tx.update(PostItem(record.post_id), actions=[PostItem.state.set(post_state), PostItem.updated_at.set(now),
                                                         PostItem.version.add(1)],
                      condition=PostItem.state == "scheduled")
        if event and record.post_id:
            tx.save(_event_item(record.post_id, event, now))


def release_day(record: PostDay, now: datetime, error: str) -> None:
    """WeChat refused before accepting anything (a quota answer, a bad draft): the next attempt may go at once."""
    try:
        record.update(actions=[PostDay.claimed_at.remove(), PostDay.error.set(error[:500]), PostDay.updated_at.set(now)],
                      condition=PostDay.outcome == "claimed")
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise


def fail_day(account_id: str, day: date, post_id: str | None, community_id: str | None, error: str,
             now: datetime) -> None:
    """The last attempt failed: the day shows as failed in the calendar and the bulletin; the post too."""
    record = PostDay(account_id, day.isoformat(), community_id=community_id, post_id=post_id, outcome="claimed")
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.update(record, actions=[PostDay.outcome.set("failed"), PostDay.error.set(error[:500]),
                                       PostDay.post_id.set(post_id), PostDay.community_id.set(community_id),
                                       PostDay.updated_at.set(now)],
                      condition=PostDay.account_id.does_not_exist() | PostDay.outcome.is_in("claimed", "missed"))
            if post_id:
                tx.update(PostItem(post_id), actions=[PostItem.state.set("failed"), PostItem.updated_at.set(now),
                                                      PostItem.version.add(1)],
                          condition=PostItem.state == "scheduled")
                tx.save(_event_item(post_id, {"kind": "system", "action": "failed", "label": "发送失败",
                                              "from": "scheduled", "to": "failed", "by": "daily-post",
                                              "at": now.isoformat(), "comment": error[:200]}, now))
    except TransactWriteError as exc:
        reasons = [getattr(r, "code", None) for r in (getattr(exc, "cancellation_reasons", None) or [])]
        if "ConditionalCheckFailed" not in reasons:
            raise  # a condition says the day or the post is already settled: nothing to do


def write_job_report(tx, effect: pub.PostJobReported, now: datetime) -> list[str]:
    """Unit-of-work writer: WeChat's MASSSENDJOBFINISH / PUBLISHJOBFINISH onto the day it reports on."""
    record = day_of_job(effect.account_id, effect.job_id) if effect.job_id else None
    if record is None:
        return []  # a send made outside the platform (WeChat's own console): nothing of ours to update
    outcome = effect.outcome if record.outcome in pub.FINAL_OUTCOMES or record.outcome == "claimed" else record.outcome
    tx.update(record, "post_day", f"{record.account_id}#{record.day}", actions=[
        PostDay.outcome.set(outcome), PostDay.updated_at.set(now),
        PostDay.report.set(json.dumps({"status": effect.status, "counts": effect.counts,
                                       "article_urls": list(effect.article_urls)}, ensure_ascii=False))])
    if record.post_id:
        tx.save(_event_item(record.post_id, {
            "kind": "system", "action": "job_report", "label": {"sent": "微信报告：已送达", "filtered": "微信报告：被过滤",
                                                                "failed": "微信报告：发送失败"}.get(outcome, outcome),
            "from": "", "to": "", "by": "wechat", "at": now.isoformat(), "comment": effect.status,
            "article_urls": list(effect.article_urls)}, now), "post_event", record.post_id)
    return []


def mark_missed(entries: Iterable[tuple[str, str | None]], day: date, now: datetime) -> int:
    """Record `missed` for accounts with no approved post that day; never over another outcome."""
    count = 0
    for account_id, community_id in entries:
        try:
            PostDay(account_id, day.isoformat(), community_id=community_id, outcome="missed",
                    updated_at=now).save(condition=PostDay.account_id.does_not_exist())
            count += 1
        except PutError as exc:
            if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
                raise
    return count


def days_of(account_id: str, first: date, last: date) -> list[PostDay]:
    """The bulletin and the calendar: an account's outcomes over a range of days."""
    return list(PostDay.query(account_id, PostDay.day.between(first.isoformat(), last.isoformat())))


def day_of_job(account_id: str, job_id: str) -> PostDay | None:
    for key in PostDay.by_job.query(f"{account_id}#{job_id}", limit=1):
        return PostDay.get(key.account_id, key.day, consistent_read=True)
    return None


# ---- the district's check policy ---------------------------------------------------------------------

class PublishingPolicy(Model):
    """The district's 三关 configuration (banned / sensitive words, whitelist, checklist, levels) as JSON."""

    Meta = table_meta("publishing_policies")
    district_id = UnicodeAttribute(hash_key=True)
    body = UnicodeAttribute()
    updated_by = UnicodeAttribute(default="")
    updated_at = UTCDateTimeAttribute(default=clock.now)


def policy_data(district_id: str) -> dict[str, Any] | None:
    try:
        return json.loads(PublishingPolicy.get(district_id).body)
    except PublishingPolicy.DoesNotExist:
        return None


def save_policy(district_id: str, data: dict[str, Any], actor: str, now: datetime) -> None:
    PublishingPolicy(district_id, body=json.dumps(data, ensure_ascii=False), updated_by=actor, updated_at=now).save()


# ---- staff notices (the console badge; WeChat once staff bind their WeChat) --------------------------

class StaffNotice(Model):
    """Something a staff member should look at: a post waiting for their review, a missing post tomorrow."""

    Meta = table_meta("staff_notices", ttl_attribute="expires_at")
    username = UnicodeAttribute(hash_key=True)
    notice_id = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()  # review / sent_back / approved / reminder
    text = UnicodeAttribute()
    post_id = UnicodeAttribute(null=True)
    community_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=clock.now)
    expires_at = UTCDateTimeAttribute(null=True)


def notice(username: str, notice_id: str, kind: str, text: str, now: datetime, post_id: str | None = None,
           community_id: str | None = None) -> StaffNotice:
    return StaffNotice(username, notice_id, kind=kind, text=text, post_id=post_id, community_id=community_id,
                       created_at=now, expires_at=now + NOTICE_TTL)


def notices_of(username: str, limit: int = 50) -> list[dict[str, Any]]:
    return [{"id": n.notice_id, "kind": n.kind, "text": n.text, "post_id": n.post_id,
             "community_id": n.community_id, "at": n.created_at.isoformat()}
            for n in StaffNotice.query(username, scan_index_forward=False, limit=limit)]


def save_notices(notices: Iterable[StaffNotice]) -> int:
    """Reminders: deterministic ids, so a second run overwrites the same items."""
    count = 0
    with StaffNotice.batch_write() as batch:
        for n in notices:
            batch.save(n)
            count += 1
    return count


__all__ = ["Claimed", "ConflictError", "PostDay", "PostHistory", "PostItem", "PublishingPolicy", "StaffNotice"]
