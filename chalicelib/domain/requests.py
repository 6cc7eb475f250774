"""便民纸条: a resident's help request, from intake to answer.

Intake here: free text (or a recognised voice message, or a photo) that no other rule takes becomes a
request with a public number the resident can quote; a voice message WeChat could not recognise is
handed to staff as a request to listen to.
"""
from __future__ import annotations

import re

from chalicelib.domain.messages import Reply
from chalicelib.domain.router import Context, Decision, NewRequest, router

STATE_NAMES = {
    "submitted": "已提交",
    "accepted": "已受理",
    "assigned": "已派单",
    "in_progress": "办理中",
    "done": "已办结",
    "cancelled": "已取消",
    "rejected": "未受理",
    "reopened": "重新办理",
}
OPEN_STATES = ("submitted", "accepted", "assigned", "in_progress", "reopened")
_MEANINGFUL = re.compile(r"[\w\u4e00-\u9fff]")  # a letter, digit or Chinese character
MAX_LISTED = 5
MEDIA_WORDS = {"image": "（居民发来一张照片）", "video": "（居民发来一段视频）", "shortvideo": "（居民发来一段小视频）"}


def format_number(prefix: str, day_yyyymmdd: str, sequence: int) -> str:
    """XG-20261127-0042: the community's code, the Shanghai day, the day's sequence."""
    return f"{prefix}-{day_yyyymmdd}-{sequence:04d}"


def _excerpt(text: str, size: int = 16) -> str:
    return text if len(text) <= size else text[:size] + "…"


def _file(ctx: Context, channel: str, text: str, media_id: str | None) -> Decision:
    number = ctx.ports.next_request_number(ctx.account.request_prefix, ctx.now)
    request = NewRequest(number=number, account_id=ctx.account.account_id, district_id=ctx.account.district_id,
                         community_id=ctx.account.community_id, openid=ctx.message.openid, channel=channel,
                         text=text, media_id=media_id)
    return Decision(Reply(text=f"已收到您的便民纸条，编号 {number}。社区会尽快安排服务人员并回复您。"
                               "回复“我的纸条”可查看办理进度。"), (request,))


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
    decision = _file(ctx, "voice", "（语音留言，待工作人员收听）", ctx.message.media_id)
    number = decision.effects[0].number
    return Decision(Reply(text=f"已收到您的语音留言，编号 {number}。工作人员会尽快收听并回复您；"
                               "方便的话也可以用文字再写一遍。"), decision.effects)


@router.action("my_requests")
def my_requests(ctx: Context) -> Decision:
    items = ctx.ports.open_requests(ctx.account.account_id, ctx.message.openid)
    if not items:
        return Decision(Reply(text="您目前没有办理中的便民纸条。需要帮忙时直接留言即可。"))
    lines = [f"{r['number']} {STATE_NAMES.get(r['state'], r['state'])}：{_excerpt(r['text'])}"
             for r in items[:MAX_LISTED]]
    more = f"\n另有 {len(items) - MAX_LISTED} 张未列出。" if len(items) > MAX_LISTED else ""
    return Decision(Reply(text="您办理中的便民纸条：\n" + "\n".join(lines) + more))
