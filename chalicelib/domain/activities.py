"""Community activities (社区活动) and residents' sign-ups (报名社区活动).

Staff create an activity (title, time, place, capacity, audience, sign-up deadline, whether relatives may
sign up an elder). Residents see the upcoming ones (`活动`), sign up (`报名 2`, `报名 智能手机`, or for an
elder: `帮老人报名 2 张大爷`), see (`我的报名`) and cancel (`取消报名 2`) their sign-ups.

Places are a counter taken by a conditional write (`ReserveCapacity`) in the same commit as the sign-up:
of two residents for the last place one gets it, the other is put on the waiting list (the reservation's
`otherwise`). A cancelled place goes to the first of the waiting list in the same commit, who is told.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from chalicelib.domain.dates import SHANGHAI, describe_day, local_date
from chalicelib.domain.effects import CancelSignup, Decision, Notify, ReserveCapacity, SaveSignup
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.messages import Reply
from chalicelib.domain.patterns import lazy_re
from chalicelib.domain.records import record
from chalicelib.domain.router import Context, router
from chalicelib.domain.text import normalise

_CHOICE = lazy_re(r"\d{1,2}")  # an activity's number in the list

AUDIENCES = ("所有居民", "老年人", "青少年", "儿童及家长", "残疾人", "党员", "志愿者")
SIGNUP_STATES = {"confirmed": "已报名", "waiting": "候补", "cancelled": "已取消"}
SELF = "本人"
MAX_LISTED = 8
MAX_TITLE = 40
MAX_CAPACITY = 10_000
ANSWERS_NOTICE = "activity"


@record
class ActivityView:
    activity_id: str
    district_id: str
    community_id: str | None
    title: str
    starts_at: datetime  # UTC
    place: str
    capacity: int
    audience: str
    signup_deadline: datetime  # UTC
    relatives_allowed: bool
    state: str = "open"  # open | cancelled
    description: str = ""
    taken: int = 0  # places taken (read with the list; the write checks it again)

    @property
    def scope(self) -> str:
        return activity_scope(self.district_id, self.community_id)

    @property
    def counter_id(self) -> str:
        return places_counter(self.activity_id)

    def when(self, now: datetime) -> str:
        local = self.starts_at.astimezone(SHANGHAI)
        return f"{describe_day(local.date(), local_date(now))} {local:%H:%M}"


@record
class SignupView:
    activity_id: str
    signup_key: str
    account_id: str
    openid: str
    person: str
    state: str
    position: int = 0  # on the waiting list: 1 is next


def activity_scope(district_id: str, community_id: str | None) -> str:
    """Whose activity: a community's, or the district's own (shown on every account)."""
    return f"community#{community_id}" if community_id else f"district#{district_id}"


def places_counter(activity_id: str) -> str:
    return f"activity#{activity_id}#places"


def signup_key(account_id: str, openid: str, person: str) -> str:
    return f"{account_id}#{openid}#{person}"


class ActivityReads(Protocol):
    """What the chat actions read (implemented over DynamoDB in `chalicelib.store.activities`)."""

    def upcoming_activities(self, district_id: str, community_id: str | None, now: datetime) -> list[ActivityView]: ...
    def activity(self, activity_id: str) -> ActivityView | None: ...
    def signup(self, activity_id: str, key: str) -> SignupView | None: ...
    def signups_of(self, account_id: str, openid: str) -> list[SignupView]: ...
    def first_waiting(self, activity_id: str) -> SignupView | None: ...


# ---- staff: a new activity -------------------------------------------------------------------------

def parse_local_time(value: Any, label: str, errors: list[str]) -> datetime | None:
    """A Shanghai wall time from staff (`2026-12-02T09:30`) as UTC; a Chinese error appended if malformed."""
    if not isinstance(value, str):
        errors.append(f"请填写{label}（例如 2026-12-02T09:30，上海时间）")
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        errors.append(f"{label}的格式不对，应为 2026-12-02T09:30（上海时间）")
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed.astimezone(timezone.utc)


def check_activity(body: Any, now: datetime) -> dict[str, Any]:
    """The fields of a new activity from staff's JSON; `BadRequest` naming every problem, in Chinese."""
    if not isinstance(body, dict):
        raise BadRequest("活动内容应为JSON对象", code="invalid_activity")
    errors: list[str] = []
    title = str(body.get("title") or "").strip()
    place = str(body.get("place") or "").strip()
    if not title:
        errors.append("请填写活动名称")
    elif len(title) > MAX_TITLE:
        errors.append(f"活动名称最多 {MAX_TITLE} 个字")
    if not place:
        errors.append("请填写活动地点")
    starts = parse_local_time(body.get("starts_at"), "活动时间", errors)
    deadline_raw = body.get("signup_deadline")
    deadline = parse_local_time(deadline_raw, "报名截止时间", errors) if deadline_raw else starts
    capacity = body.get("capacity")
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 1 <= capacity <= MAX_CAPACITY:
        errors.append(f"名额应为 1 到 {MAX_CAPACITY} 之间的整数")
    audience = body.get("audience") or "所有居民"
    if audience not in AUDIENCES:
        errors.append("面向人群应为其中之一：" + "、".join(AUDIENCES))
    if starts and starts <= now:
        errors.append("活动时间应在现在之后")
    if starts and deadline and deadline > starts:
        errors.append("报名截止时间不能晚于活动时间")
    if errors:
        raise BadRequest("；".join(errors), code="invalid_activity")
    return {"title": title, "place": place[:80], "starts_at": starts, "signup_deadline": deadline,
            "capacity": capacity, "audience": audience, "relatives_allowed": bool(body.get("relatives_allowed")),
            "description": str(body.get("description") or "").strip()[:500]}


# ---- planning a sign-up and a cancellation (shared by chat, H5 and staff) ---------------------------

class SignupRefused(ValueError):
    """The sign-up cannot be made (closed, past the deadline, already signed up …): `str()` says why."""


WAITING_REPLY = ("“{title}”的名额刚刚报满了。已为您排入候补名单：有人取消时按报名先后依次递补，"
                 "递补成功会通知您。回复“我的报名”可查看。")


def plan_signup(activity: ActivityView, account_id: str, openid: str, person: str, existing: SignupView | None,
                now: datetime, relative: bool = False) -> tuple[str, tuple]:
    """(reply, effects) of a sign-up; raises SignupRefused with the reason."""
    if activity.state != "open":
        raise SignupRefused(f"“{activity.title}”已取消，不能报名了。")
    if now >= activity.signup_deadline or now >= activity.starts_at:
        raise SignupRefused(f"“{activity.title}”的报名已经截止。")
    if relative and not activity.relatives_allowed:
        raise SignupRefused(f"“{activity.title}”需要本人报名，不能代报。")
    if existing is not None and existing.state != "cancelled":
        state = SIGNUP_STATES[existing.state]
        raise SignupRefused(f"{'您' if person == SELF else person}已经报过“{activity.title}”了（{state}）。"
                            "回复“我的报名”可查看。")
    key = signup_key(account_id, openid, person)
    waiting = SaveSignup(activity.activity_id, key, account_id, openid, person, "waiting", activity.title)
    confirmed = SaveSignup(activity.activity_id, key, account_id, openid, person, "confirmed", activity.title)
    who = "" if person == SELF else f"（为{person}报名）"
    reply = (f"报名成功{who}：“{activity.title}”，{activity.when(now)}，{activity.place}。"
             "活动前一天会提醒您。如不能参加，请回复“取消报名 " + activity.title + "”。")
    reserve = ReserveCapacity(activity.counter_id, 1, activity.capacity,
                              WAITING_REPLY.format(title=activity.title), otherwise=(waiting,))
    return reply, (reserve, confirmed)


def plan_cancel(activity: ActivityView, signup: SignupView, first_waiting: SignupView | None,
                now: datetime) -> tuple[str, tuple]:
    promote = first_waiting if signup.state == "confirmed" and first_waiting is not None else None
    notice = None
    if promote is not None:
        who = "您" if promote.person == SELF else promote.person
        notice = Notify(promote.account_id, promote.openid, ANSWERS_NOTICE,
                        f"好消息：有人取消了报名，{who}已从候补转为正式报名“{activity.title}”，"
                        f"{activity.when(now)}，{activity.place}。不能参加请回复“取消报名 {activity.title}”。",
                        {"title": activity.title, "state": "已报名"})
    effect = CancelSignup(activity.activity_id, signup.signup_key, signup.state, activity.counter_id,
                          promote.signup_key if promote else None, notice)
    who = "" if signup.person == SELF else f"（{signup.person}）"
    return f"已取消“{activity.title}”的报名{who}。", (effect,)


# ---- chat ------------------------------------------------------------------------------------------

def _upcoming(ctx: Context) -> list[ActivityView]:
    return ctx.ports.upcoming_activities(ctx.account.district_id, ctx.account.community_id, ctx.now)


def _pick(ctx: Context, which: str) -> ActivityView | None:
    """`which` is a number of the list `活动` shows, or words of a title."""
    which = which.strip()
    upcoming = _upcoming(ctx)
    if _CHOICE.fullmatch(which):
        n = int(which)
        return upcoming[n - 1] if 1 <= n <= len(upcoming) else None
    hits = [a for a in upcoming if which and normalise(which) in normalise(a.title)]
    return hits[0] if hits else None


def _listing(ctx: Context, upcoming: list[ActivityView]) -> str:
    lines = []
    for n, a in enumerate(upcoming[:MAX_LISTED], start=1):
        left = max(a.capacity - a.taken, 0)
        places = f"余{left}个名额" if left else "已满，可候补"
        who = "" if a.audience == "所有居民" else f"（面向{a.audience}）"
        lines.append(f"{n}. {a.title}{who}：{a.when(ctx.now)}，{a.place}，{places}")
    return "\n".join(lines)


@router.action("activities")
def activities(ctx: Context) -> Decision:
    """活动: the upcoming activities of the community (and of the district), numbered."""
    upcoming = _upcoming(ctx)
    if not upcoming:
        return Decision(Reply(text="近期没有可以报名的社区活动。有新活动时会在公众号里发布。"))
    return Decision(Reply(text="近期社区活动：\n" + _listing(ctx, upcoming) +
                               "\n报名请回复“报名 序号”，例如“报名 1”；替家里老人报名：“帮老人报名 1 张大爷”。"))


def _signup(ctx: Context, person: str, relative: bool) -> Decision:
    which = str(ctx.params.get("activity") or "")
    activity = _pick(ctx, which)
    if activity is None:
        return Decision(Reply(text=f"没有找到活动“{which}”。回复“活动”查看可以报名的活动和序号。"))
    key = signup_key(ctx.account.account_id, ctx.message.openid, person)
    try:
        reply, effects = plan_signup(activity, ctx.account.account_id, ctx.message.openid, person,
                                     ctx.ports.signup(activity.activity_id, key), ctx.now, relative)
    except SignupRefused as exc:
        return Decision(Reply(text=str(exc)))
    return Decision(Reply(text=reply), effects)


@router.action("activity_signup")
def activity_signup(ctx: Context) -> Decision:
    return _signup(ctx, SELF, relative=False)


@router.action("activity_signup_relative")
def activity_signup_relative(ctx: Context) -> Decision:
    name = str(ctx.params.get("name") or "").strip()[:20]
    if not name:
        return Decision(Reply(text="请写上老人的称呼，例如“帮老人报名 1 张大爷”。"))
    return _signup(ctx, name, relative=True)


@router.action("my_signups")
def my_signups(ctx: Context) -> Decision:
    mine = [s for s in ctx.ports.signups_of(ctx.account.account_id, ctx.message.openid) if s.state != "cancelled"]
    lines = []
    for s in mine[:MAX_LISTED]:
        a = ctx.ports.activity(s.activity_id)
        if a is None or a.starts_at < ctx.now:
            continue
        state = f"候补第{s.position}位" if s.state == "waiting" and s.position else SIGNUP_STATES[s.state]
        who = "" if s.person == SELF else f"（{s.person}）"
        lines.append(f"· {a.title}{who}：{a.when(ctx.now)}，{a.place}，{state}")
    if not lines:
        return Decision(Reply(text="您目前没有报名的活动。回复“活动”查看近期活动。"))
    return Decision(Reply(text="您报名的活动：\n" + "\n".join(lines) + "\n取消请回复“取消报名 活动名称”。"))


@router.action("activity_cancel")
def activity_cancel(ctx: Context) -> Decision:
    which = str(ctx.params.get("activity") or "").strip()
    person = str(ctx.params.get("name") or "").strip() or SELF
    mine = [s for s in ctx.ports.signups_of(ctx.account.account_id, ctx.message.openid)
            if s.state != "cancelled" and s.person == person]
    for s in mine:
        a = ctx.ports.activity(s.activity_id)
        if a is None:
            continue
        picked = _pick(ctx, which) if which else None
        named = bool(which) and normalise(which) in normalise(a.title)
        if (picked and picked.activity_id == a.activity_id) or named or (len(mine) == 1 and not which):
            first = ctx.ports.first_waiting(a.activity_id) if s.state == "confirmed" else None
            reply, effects = plan_cancel(a, s, first, ctx.now)
            return Decision(Reply(text=reply), effects)
    return Decision(Reply(text=f"没有找到您报名的“{which}”。回复“我的报名”查看。"))


def tomorrow_window(now: datetime) -> tuple[datetime, datetime]:
    """The Shanghai day after `now`'s, as a UTC [start, end) window (reminders go the day before)."""
    day = local_date(now) + timedelta(days=1)
    start = datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI)
    return start, start + timedelta(days=1)


def reminder_text(activity: ActivityView, person: str, now: datetime) -> str:
    who = "" if person == SELF else f"（{person}）"
    return (f"活动提醒{who}：您报名的“{activity.title}”在{activity.when(now)}开始，地点：{activity.place}。"
            f"不能参加请回复“取消报名 {activity.title}”，把名额让给候补的居民。")
