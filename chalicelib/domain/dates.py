"""Time rules of the platform: store UTC, show and reason in Asia/Shanghai (北京时间)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")




def local_date(moment: datetime) -> date:
    """The calendar day in Shanghai of an aware moment."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the platform only handles timezone-aware moments")
    return moment.astimezone(SHANGHAI).date()


def yesterday(moment: datetime) -> date:
    return local_date(moment) - timedelta(days=1)


def shanghai_iso(moment: datetime) -> str:
    """ISO 8601 with +08:00, as residents, staff and Open311 partners see times."""
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


# ---- date phrases in residents' words ------------------------------------------------------------
# One resolver for the whole platform: 今天, 明天, 后天, 大后天, 周一…周日, 星期…, 礼拜…, 下周三, 本周五,
# 11月28日, 28号. Text is expected normalised (simplified, half-width); all days are Shanghai days.

import re as _re  # noqa: E402

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5,
             "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_RELATIVE = {"今天": 0, "今日": 0, "今儿": 0, "明天": 1, "明日": 1, "明儿": 1, "后天": 2, "後天": 2, "大后天": 3}
_NUM = r"(?:\d{1,2}|[一二三四五六七八九十两]{1,3})"
_PATTERNS = [
    ("month_day", _re.compile(rf"(?P<month>{_NUM})\s*月\s*(?P<day>{_NUM})\s*[日号]?")),
    ("day_only", _re.compile(rf"(?<![月\d一二三四五六七八九十])(?P<day>{_NUM})\s*[号日](?![子楼线院门床房室])")),
    ("weekday", _re.compile(r"(?P<which>下下|下个?|这个?|本|上个?)?\s*(?:周|星期|礼拜)(?P<wd>[一二三四五六日天末1-7])")),
    ("relative", _re.compile("|".join(sorted(map(_re.escape, _RELATIVE), key=len, reverse=True)))),
]


def _number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    if len(text) == 1 and text in _CN_DIGITS:
        return _CN_DIGITS[text]
    return None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def resolve_day(text: str, today: date) -> tuple[date, str] | None:
    """The first date phrase in `text` as a Shanghai day (and the phrase), or None.

    Weekdays alone mean the coming one (today counts: 周日 asked on a Sunday is today); 下周X is that day
    of next week (weeks start on Monday); 本周X/这周X is this week's, even if past. A month and day
    already more than a week past means next year; a day of the month already past means next month.
    """
    found: list[tuple[int, date, str]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            day = _resolve(kind, match, today)
            if day is not None:
                found.append((match.start(), day, match.group(0)))
                break
    if not found:
        return None
    start, day, phrase = min(found, key=lambda f: f[0])
    return day, phrase


def _resolve(kind: str, match: _re.Match, today: date) -> date | None:
    if kind == "relative":
        return today + timedelta(days=_RELATIVE[match.group(0)])
    if kind == "weekday":
        wd = _WEEKDAYS[match.group("wd")]
        which = (match.group("which") or "").replace("个", "")
        monday = today - timedelta(days=today.weekday())
        if which in ("下",):
            return monday + timedelta(days=7 + wd)
        if which == "下下":
            return monday + timedelta(days=14 + wd)
        if which in ("这", "本"):
            return monday + timedelta(days=wd)
        if which == "上":
            return monday - timedelta(days=7 - wd)
        return today + timedelta(days=(wd - today.weekday()) % 7)
    day_number = _number(match.group("day"))
    if day_number is None or not 1 <= day_number <= 31:
        return None
    if kind == "month_day":
        month = _number(match.group("month"))
        if month is None or not 1 <= month <= 12:
            return None
        candidate = _safe_date(today.year, month, day_number)
        if candidate is not None and candidate < today - timedelta(days=7):
            candidate = _safe_date(today.year + 1, month, day_number)
        return candidate
    candidate = _safe_date(today.year, today.month, day_number)
    if candidate is None or candidate < today:
        year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        candidate = _safe_date(year, month, day_number)
    return candidate


WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def describe_day(day: date, today: date) -> str:
    """11月28日（周六，明天）: how the platform writes a day back to residents."""
    delta = (day - today).days
    near = {0: "今天", 1: "明天", 2: "后天"}.get(delta)
    label = f"{day.month}月{day.day}日（{WEEKDAY_NAMES[day.weekday()]}"
    return label + (f"，{near}）" if near else "）")
