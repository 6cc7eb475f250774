"""Consultations (公共政策讨论): a question staff put to residents, with options and/or free text, open for a
period; one answer a resident (a conditional write); results for staff.

In chat: `讨论` lists the open ones, numbered; `回答 1 2` picks option 2 of the first, `回答 1 我觉得…`
answers in the resident's words (when the consultation takes free text).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.effects import AnswerConsultation, Decision
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.messages import Reply
from chalicelib.domain.patterns import lazy_re
from chalicelib.domain.records import record
from chalicelib.domain.router import Context, router

_CHOICE = lazy_re(r"\d{1,2}")  # an option's number

MAX_OPTIONS = 8
MAX_ANSWER = 500


@record
class ConsultationView:
    consultation_id: str
    scope: str
    question: str
    options: tuple[str, ...]
    free_text: bool
    opens_at: datetime
    closes_at: datetime

    def open_at(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at


class ConsultationReads(Protocol):
    def open_consultations(self, district_id: str, community_id: str | None, now: datetime) -> list[ConsultationView]: ...
    def has_answered(self, consultation_id: str, resident_key: str) -> bool: ...


def check_consultation(body: Any, parse_time) -> dict[str, Any]:
    """Staff's JSON: question, options (0–8), free_text, opens_at, closes_at; Chinese errors."""
    if not isinstance(body, dict):
        raise BadRequest("请求内容应为JSON对象", code="bad_json")
    errors = []
    question = str(body.get("question") or "").strip()
    if not 4 <= len(question) <= 200:
        errors.append("问题应为 4 到 200 个字")
    options = body.get("options") or []
    if not isinstance(options, list) or len(options) > MAX_OPTIONS or not all(
            isinstance(o, str) and 0 < len(o.strip()) <= 40 for o in options):
        errors.append(f"选项最多 {MAX_OPTIONS} 个，每个 1 到 40 个字")
        options = []
    free_text = bool(body.get("free_text", not options))
    if not options and not free_text:
        errors.append("至少要有选项，或允许居民自由填写")
    opens, closes = parse_time(body.get("opens_at"), "开始时间", errors), parse_time(body.get("closes_at"), "结束时间", errors)
    if opens and closes and closes <= opens:
        errors.append("结束时间应晚于开始时间")
    if errors:
        raise BadRequest("；".join(errors), code="invalid_consultation")
    return {"question": question, "options": [o.strip() for o in options], "free_text": free_text,
            "opens_at": opens, "closes_at": closes}


def _listing(open_ones: list[ConsultationView]) -> str:
    lines = []
    for n, c in enumerate(open_ones, start=1):
        options = "；".join(f"{i}. {o}" for i, o in enumerate(c.options, start=1))
        how = f"（选项：{options}）" if options else "（请写下您的看法）"
        lines.append(f"{n}. {c.question}{how}")
    return "\n".join(lines)


@router.action("consultations")
def consultations(ctx: Context) -> Decision:
    open_ones = ctx.ports.open_consultations(ctx.account.district_id, ctx.account.community_id, ctx.now)
    if not open_ones:
        return Decision(Reply(text="目前没有正在进行的公共政策讨论。"))
    return Decision(Reply(text="正在进行的公共政策讨论：\n" + _listing(open_ones) +
                               "\n回答请回复“回答 序号 选项号”，例如“回答 1 2”；也可以“回答 1 您的看法”。每人可回答一次。"))


@router.action("consultation_answer")
def consultation_answer(ctx: Context) -> Decision:
    open_ones = ctx.ports.open_consultations(ctx.account.district_id, ctx.account.community_id, ctx.now)
    n = int(ctx.params.get("number") or 0)
    if not 1 <= n <= len(open_ones):
        return Decision(Reply(text="没有这个讨论。回复“讨论”查看正在进行的讨论和序号。"))
    c = open_ones[n - 1]
    resident = f"{ctx.account.account_id}#{ctx.message.openid}"
    if ctx.ports.has_answered(c.consultation_id, resident):
        return Decision(Reply(text=f"您已经回答过“{c.question}”了，每人只能回答一次。谢谢参与！"))
    answer = str(ctx.params.get("answer") or "").strip()
    option = None
    if c.options and _CHOICE.fullmatch(answer):
        option = int(answer)
        if not 1 <= option <= len(c.options):
            return Decision(Reply(text=f"选项应为 1 到 {len(c.options)}。"))
        answer = ""
    elif not c.free_text:
        return Decision(Reply(text=f"请回复选项号，例如“回答 {n} 1”。"))
    chosen = f"“{c.options[option - 1]}”" if option else "您的看法"
    effect = AnswerConsultation(c.consultation_id, resident, ctx.account.account_id, option, answer[:MAX_ANSWER])
    return Decision(Reply(text=f"已记录{chosen}。谢谢您参与“{c.question}”的讨论！"), (effect,))
