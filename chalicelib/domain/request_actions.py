"""便民纸条 in WeChat: filing one from free text, voice or a photo; 我的纸条; cancelling and rating.

Filing goes through `chalicelib.domain.filing` (the one way a request is made, whatever the channel).
"""
from __future__ import annotations

from chalicelib.domain.effects import Decision, Transition
from chalicelib.domain.filing import Need, intake, is_meaningful, plan_need
from chalicelib.domain.messages import Reply
from chalicelib.domain.requests import STATE_NAMES, Actor, InvalidTransition, RequestView, parse_number, plan_transition
from chalicelib.domain.router import Context, router

MAX_LISTED = 5
MEDIA_WORDS = {"image": "（居民发来一张照片）", "video": "（居民发来一段视频）", "shortvideo": "（居民发来一段小视频）"}


def _claim(ctx: Context) -> str:
    return f"{ctx.account.account_id}#{ctx.message.dedupe_key}"


def _file(ctx: Context, channel: str, text: str, media_id: str | None) -> Decision:
    return plan_need(ctx.ports, ctx.account, ctx.now, Need(text=text, channel=channel, openid=ctx.message.openid,
                                                           media_id=media_id, claim=_claim(ctx)))


@router.action("file_request")
def file_request(ctx: Context) -> Decision:
    m = ctx.message
    if m.kind in MEDIA_WORDS:
        return _file(ctx, "wechat", MEDIA_WORDS[m.kind], m.media_id)
    if not is_meaningful(ctx.text):
        return Decision(Reply(text="没看明白您的意思。需要社区帮忙的话，请用文字写下具体的事，"
                                   "或者发一段语音。回复“帮助”查看用法。"))
    return _file(ctx, "voice" if m.kind == "voice" else "wechat", m.text or "", m.media_id)


@router.action("voice_without_text")
def voice_without_text(ctx: Context) -> Decision:
    request = intake(ctx.ports, ctx.account, ctx.now, Need(text="（语音留言，待工作人员收听）", channel="voice",
                                                            openid=ctx.message.openid, media_id=ctx.message.media_id,
                                                            claim=_claim(ctx)))
    return Decision(Reply(text=f"已收到您的语音留言，编号 {request.number}。工作人员会尽快收听并回复您；"
                               "方便的话也可以用文字再写一遍。"), (request,))


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

