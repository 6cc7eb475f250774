"""便民纸条 in WeChat: filing one from free text, voice or a photo; 我的纸条; cancelling and rating.

`intake` is the one way a request is made, whatever the channel (WeChat, H5 form, staff, Open311).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from chalicelib.domain.dates import describe_day, local_date
from chalicelib.domain.meals import MEAL_NAMES, read_meal_order
from chalicelib.domain.messages import Reply
from chalicelib.domain.requests import (
    STATE_NAMES,
    Actor,
    InvalidTransition,
    RequestView,
    check_category,
    classify,
    due_at,
    fingerprint,
    parse_number,
    plan_transition,
)
from chalicelib.domain.effects import Decision, NewRequest, Transition
from chalicelib.domain.ports import AccountView, Ports
from chalicelib.domain.router import Context, router
from chalicelib.domain.text import normalise

_MEANINGFUL = re.compile(r"[^\W_]")  # a letter, digit or Chinese character
MAX_LISTED = 5
MAX_TEXT = 5000
MEDIA_WORDS = {"image": "（居民发来一张照片）", "video": "（居民发来一段视频）", "shortvideo": "（居民发来一段小视频）"}


def intake(ports: Ports, account: AccountView, now: datetime, *, text: str, channel: str,
           openid: str | None = None, media_id: str | None = None, category: str | None = None,
           contact: dict[str, str] | None = None, grid: str | None = None, actor: str = "resident",
           partner: str | None = None, numbered: bool = True) -> NewRequest:
    """Classify, route and number a new request (the caller commits the returned effect).

    `numbered=False` leaves the number empty, for a caller that may still decline (a meal order past
    its cut-off) and numbers it only when it files."""
    policy = ports.policy(account.district_id, account.community_id)
    words = normalise(text)
    category = check_category(category) if category else classify(words, policy)
    route = policy.routes.get(category) or policy.routes["other"]
    team = None
    if route.team_kind and account.community_id:
        team = ports.team_of_kind(account.community_id, route.team_kind)
    details = read_meal_order(words, local_date(now)) if category == "meal_delivery" else {}
    if details and details["day"] is None:
        details["day"] = (local_date(now) + timedelta(days=1)).isoformat()
    number = ports.next_request_number(account.request_prefix, now) if numbered else ""
    guard = f"{account.account_id}#{openid}#{fingerprint(category, words, details.get('day'))}" if openid else None
    return NewRequest(number=number, account_id=account.account_id, district_id=account.district_id,
                      community_id=account.community_id, openid=openid, channel=channel, text=text[:MAX_TEXT],
                      media_id=media_id, category=category, team_id=team[0] if team else None,
                      department_id=None if team else route.department_id, due_at=due_at(now, category, policy),
                      details=details, guard_key=guard, grid=grid, contact=contact or {}, actor=actor,
                      partner=partner)


def filed_reply(request: NewRequest, team_name: str | None, now: datetime) -> Reply:
    lines = [f"已收到您的便民纸条，编号 {request.number}。"]
    if request.category == "meal_delivery" and request.details.get("day"):
        from datetime import date

        day = describe_day(date.fromisoformat(request.details["day"]), local_date(now))
        meal = MEAL_NAMES[request.details["meal"]]
        lines.append(f"送餐：{day}{meal}，{request.details['portions']} 份。")
        if not request.details.get("meal_asked"):
            lines.append("如要早餐或晚餐，请回复说明。")
    if team_name:
        lines.append(f"已转{team_name}安排，")
    lines.append("社区会尽快安排服务人员并回复您。回复“我的纸条”可查看办理进度。")
    return Reply(text="".join(lines))


def _file(ctx: Context, channel: str, text: str, media_id: str | None) -> Decision:
    if not media_id and ctx.account.community_id and classify(
            ctx.text, ctx.ports.policy(ctx.account.district_id, ctx.account.community_id)) == "meal_delivery":
        from chalicelib.domain.canteen_actions import meal_order

        return meal_order(ctx, text, channel)
    request = intake(ctx.ports, ctx.account, ctx.now, text=text, channel=channel, openid=ctx.message.openid,
                     media_id=media_id)
    return Decision(filed_reply(request, ctx.ports.team_name(request.district_id, request.community_id, request.team_id,
                                                        request.department_id), ctx.now),
                    (request,))


@router.action("file_request")
def file_request(ctx: Context) -> Decision:
    m = ctx.message
    if m.kind in MEDIA_WORDS:
        return _file(ctx, "wechat", MEDIA_WORDS[m.kind], m.media_id)
    if not _MEANINGFUL.search(ctx.text):
        return Decision(Reply(text="没看明白您的意思。需要社区帮忙的话，请用文字写下具体的事，"
                                   "或者发一段语音。回复“帮助”查看用法。"))
    return _file(ctx, "voice" if m.kind == "voice" else "wechat", m.text or "", m.media_id)


@router.action("voice_without_text")
def voice_without_text(ctx: Context) -> Decision:
    request = intake(ctx.ports, ctx.account, ctx.now, text="（语音留言，待工作人员收听）", channel="voice",
                     openid=ctx.message.openid, media_id=ctx.message.media_id)
    return Decision(Reply(text=f"已收到您的语音留言，编号 {request.number}。工作人员会尽快收听并回复您；"
                               "方便的话也可以用文字再写一遍。"), (request,))


def duplicate_reply(number: str) -> Reply:
    return Reply(text=f"您刚刚已经提交过同样的需求，纸条编号 {number}，社区正在办理，不用重复提交。"
                      "回复“我的纸条”可查看进度。")


def _excerpt(text: str, size: int = 16) -> str:
    return text if len(text) <= size else text[:size] + "…"


@router.action("my_requests")
def my_requests(ctx: Context) -> Decision:
    items = ctx.ports.open_requests(ctx.account.account_id, ctx.message.openid)
    if not items:
        return Decision(Reply(text="您目前没有办理中的便民纸条。需要帮忙时直接留言即可。"))
    lines = [f"{r['number']} {STATE_NAMES.get(r['state'], r['state'])}：{_excerpt(r['text'])}"
             for r in items[:MAX_LISTED]]
    more = f"\n另有 {len(items) - MAX_LISTED} 张未列出。" if len(items) > MAX_LISTED else ""
    return Decision(Reply(text="您办理中的便民纸条：\n" + "\n".join(lines) + more +
                               "\n取消请回复“取消 编号”，办结后评价请回复“评价 编号 分数(1-5) 留言”。"))


def _own_request(ctx: Context) -> RequestView | None:
    """The request the resident named, only if it is theirs (another's looks just like a missing one)."""
    number = parse_number(str(ctx.params.get("number", "")))
    request = ctx.ports.request(number) if number else None
    if request is None or request.account_id != ctx.account.account_id or request.openid != ctx.message.openid:
        return None
    return request


def _not_found(ctx: Context) -> Decision:
    return Decision(Reply(text=f"没有找到您的纸条 {ctx.params.get('number', '')}。请核对编号，"
                               "或回复“我的纸条”查看您的纸条。"))


@router.action("cancel_request")
def cancel_request(ctx: Context) -> Decision:
    request = _own_request(ctx)
    if request is None:
        return _not_found(ctx)
    try:
        plan = plan_transition(request, "cancel", Actor("resident", ctx.message.openid), ctx.now, "居民在微信中取消")
    except InvalidTransition as exc:
        return Decision(Reply(text=str(exc)))
    return Decision(Reply(text=f"纸条 {request.number} 已取消。需要时可以随时再留言。"), (Transition(plan),))


@router.action("rate_request")
def rate_request(ctx: Context) -> Decision:
    request = _own_request(ctx)
    if request is None:
        return _not_found(ctx)
    try:
        plan = plan_transition(request, "rate", Actor("resident", ctx.message.openid), ctx.now,
                               str(ctx.params.get("comment", "")).strip(), rating=int(ctx.params.get("stars", 0)))
    except InvalidTransition as exc:
        return Decision(Reply(text=str(exc)))
    return Decision(Reply(text=f"谢谢您的评价！纸条 {request.number} 已完成。"), (Transition(plan),))

