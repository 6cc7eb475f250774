"""Alerts to staff in WeChat (工作提醒): what a staff member can choose to hear, who hears what, and the digest.

Alerts are not sent one by one: everything for one staff member in a window of `WINDOW` becomes one
message (a busy hour sends at most six, not fifty). The sources are the request audit trail (filed,
assigned, escalated: written in the same transaction as the change, so nothing is lost) and alert entries
written beside other changes (a post waiting for review; the monthly bulletin).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.domain.dates import SHANGHAI
from chalicelib.domain.records import record

ALERT_KINDS = {
    "new_request": "本社区的新纸条",
    "assigned": "派给我的队伍或部门的纸条",
    "escalation": "超时提醒",
    "review": "等我审核的稿件",
    "bulletin": "月度简报",
}
SHORT_NAMES = {"new_request": "新纸条", "assigned": "派单", "escalation": "超时", "review": "待审稿件", "bulletin": "月报"}
WINDOW = timedelta(minutes=10)
SETTLE = timedelta(minutes=1)  # a window is digested this long after it ends (late commits land first)
LOOKBACK = timedelta(hours=2)  # windows older than this are not looked at again (the console still has it all)
CODE_LIFETIME = timedelta(minutes=10)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed on a phone
CODE_LENGTH = 8
BIND_PATTERN = r"^绑定\s*(?P<code>[A-Za-z0-9]{8})$"
MAX_LISTED = 5
MAX_TEXT = 600

NEW_REQUEST_ROLES = ("social_worker", "director")  # the community's own staff hear of every new request


def window_start(at: datetime) -> datetime:
    at = at.astimezone(timezone.utc)
    seconds = int(WINDOW.total_seconds())
    return datetime.fromtimestamp(int(at.timestamp()) // seconds * seconds, timezone.utc)


def window_key(start: datetime) -> str:
    return start.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def windows_due(now: datetime) -> list[datetime]:
    """The windows that have ended (and settled) within LOOKBACK, oldest first."""
    last = window_start(now - SETTLE) - WINDOW
    out, start = [], last
    while start >= now - LOOKBACK:
        out.append(start)
        start -= WINDOW
    return sorted(out)


def normal_code(text: str) -> str | None:
    """The code as typed (any case), or None when it cannot be one."""
    code = (text or "").strip().upper()
    return code if len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code) else None


def check_kinds(kinds) -> list[str]:
    """A staff member's choice of alert kinds, validated (ValueError names the unknown one)."""
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        raise ValueError("alert_kinds 应为字符串列表")
    unknown = [k for k in kinds if k not in ALERT_KINDS]
    if unknown:
        raise ValueError(f"未知的提醒类型：{'、'.join(unknown)}")
    return [k for k in ALERT_KINDS if k in kinds]


def wants(alert_kinds: list[str] | None, kind: str) -> bool:
    return alert_kinds is None or kind in alert_kinds


@record
class Alert:
    """One thing to tell: its kind, a short line, and who hears it (scope keys with roles, or usernames)."""

    kind: str
    line: str
    ref: str | None = None
    scopes: tuple[tuple[str, tuple[str, ...] | None], ...] = ()  # (scope key, roles or None for any)
    usernames: tuple[str, ...] = ()


def alerts_of_event(number: str, community_id: str | None, subdistrict_id: str | None, action: str,
                    fields: dict, text: str = "") -> list[Alert]:
    """What one request audit event tells staff (none for most events)."""
    excerpt = (text[:12] + "…") if len(text) > 12 else text
    team, department = fields.get("team_id"), fields.get("department_id")
    assignee = (("team#" + team,) if team else ()) + (("department#" + department,) if department else ())
    out: list[Alert] = []
    if action == "file":
        if community_id:
            out.append(Alert("new_request", f"新纸条 {number}：{excerpt}", number,
                             ((f"community#{community_id}", NEW_REQUEST_ROLES),)))
        if assignee:
            out.append(Alert("assigned", f"派给您的纸条 {number}：{excerpt}", number,
                             tuple((key, None) for key in assignee)))
    elif action == "assign" and assignee:
        out.append(Alert("assigned", f"派给您的纸条 {number}：{excerpt}", number,
                         tuple((key, None) for key in assignee)))
    elif action == "escalate":
        level = int(fields.get("level") or fields.get("escalation") or 1)
        if level <= 1 and community_id:
            out.append(Alert("escalation", f"超时未办结 {number}：{excerpt}", number,
                             ((f"community#{community_id}", ("director",)),)))
        elif subdistrict_id:
            out.append(Alert("escalation", f"超时未办结（已报街道）{number}：{excerpt}", number,
                             ((f"subdistrict#{subdistrict_id}", ("subdistrict_reviewer",)),)))
    return out


def digest_text(display_name: str, lines_by_kind: dict[str, list[str]], start: datetime) -> str:
    """One message for one staff member and one window."""
    local = start.astimezone(SHANGHAI)
    end = (start + WINDOW).astimezone(SHANGHAI)
    head = f"{display_name}，{local:%H:%M}–{end:%H:%M} 的工作提醒："
    parts = []
    for kind in ALERT_KINDS:
        lines = lines_by_kind.get(kind) or []
        if not lines:
            continue
        shown = "；".join(lines[:MAX_LISTED]) + (f"；另有 {len(lines) - MAX_LISTED} 条" if len(lines) > MAX_LISTED else "")
        parts.append(f"【{ALERT_KINDS[kind]} {len(lines)}】{shown}")
    text = head + "\n" + "\n".join(parts) + "\n请登录社区工作台处理。"
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


def summary(lines_by_kind: dict[str, list[str]]) -> str:
    """A short line for a template or subscribe message (20 characters fit a subscribe field)."""
    return "，".join(f"{SHORT_NAMES[k]}{len(v)}条" for k, v in lines_by_kind.items() if v)[:20]
