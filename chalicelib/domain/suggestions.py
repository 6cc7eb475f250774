"""Residents' suggestions (意见建议, 给社区提意见建议): not a 便民纸条 — no team, no time limit — but an
answer from the community's director, told to the resident; the month's counts (filed, answered) go to
the monthly bulletin.

`建议 楼下的路灯晚上太暗了` (or the H5 form) files one to the director's queue.
"""
from __future__ import annotations

from datetime import datetime
from typing import Protocol

from chalicelib.domain.dates import local_date
from chalicelib.domain.effects import AnswerSuggestion, Decision, NewSuggestion, Notify
from chalicelib.domain.errors import BadRequest, ConflictError
from chalicelib.domain.messages import Reply
from chalicelib.domain.records import record
from chalicelib.domain.router import Context, router

MIN_TEXT = 4
MAX_TEXT = 2000
MAX_ANSWER = 1000
STATES = {"open": "待答复", "answered": "已答复"}


@record
class SuggestionView:
    suggestion_id: str
    scope: str
    account_id: str
    openid: str | None
    state: str
    created_at: datetime


def suggestion_scope(district_id: str, community_id: str | None) -> str:
    return f"community#{community_id}" if community_id else f"district#{district_id}"


def month_of(at: datetime) -> str:
    return local_date(at).strftime("%Y-%m")


def count_ids(scope: str, month: str) -> tuple[str, str]:
    """The counters of a scope's month: (filed, answered)."""
    return f"suggestions#{scope}#{month}#filed", f"suggestions#{scope}#{month}#answered"


class SuggestionReads(Protocol):
    def next_suggestion_id(self, prefix: str, now: datetime) -> str: ...


def check_text(text: str) -> str:
    text = (text or "").strip()
    if len(text) < MIN_TEXT:
        raise BadRequest(f"建议内容太短了，请至少写 {MIN_TEXT} 个字", code="invalid_suggestion")
    if len(text) > MAX_TEXT:
        raise BadRequest(f"建议内容最多 {MAX_TEXT} 个字", code="invalid_suggestion")
    return text


def new_suggestion(ports, account, openid: str | None, text: str, channel: str, now: datetime) -> NewSuggestion:
    return NewSuggestion(ports.next_suggestion_id(account.request_prefix, now), account.account_id,
                         account.district_id, account.community_id, openid, check_text(text), channel)


def filed_text(suggestion_id: str) -> str:
    return (f"已收到您的建议，编号 {suggestion_id}。社区主任会认真研究并答复您，答复会发到这里。"
            "感谢您为社区出主意！")


def plan_answer(view: SuggestionView, answer: str, actor: str) -> AnswerSuggestion:
    answer = (answer or "").strip()
    if not answer:
        raise BadRequest("请填写答复内容", code="missing_field")
    if len(answer) > MAX_ANSWER:
        raise BadRequest(f"答复最多 {MAX_ANSWER} 个字", code="invalid_answer")
    if view.state != "open":
        raise ConflictError("这条建议已经答复过了", code="already_answered")
    notice = None
    if view.openid:
        notice = Notify(view.account_id, view.openid, "suggestion_answer",
                        f"您的建议（{view.suggestion_id}）有答复了：{answer}", {"number": view.suggestion_id})
    return AnswerSuggestion(view.suggestion_id, view.scope, month_of(view.created_at), answer, actor, notice)


@router.action("file_suggestion")
def file_suggestion(ctx: Context) -> Decision:
    """建议 …: to the director's queue (not a 便民纸条)."""
    text = str(ctx.params.get("text") or ctx.message.text or "").strip()
    try:
        suggestion = new_suggestion(ctx.ports, ctx.account, ctx.message.openid, text, "wechat", ctx.now)
    except BadRequest as exc:
        return Decision(Reply(text=f"{exc}。例如：“建议 小区门口增加一个公交站牌”。"))
    return Decision(Reply(text=filed_text(suggestion.suggestion_id)), (suggestion,))


@router.action("suggestion_guide")
def suggestion_guide(ctx: Context) -> Decision:
    return Decision(Reply(text="欢迎给社区提意见建议！请回复“建议”加上您的想法，例如：“建议 小区门口增加一个公交站牌”。"
                               "社区主任会答复您。需要社区上门帮忙的事，请直接留言，那是便民纸条。"))
