"""Time rules of the platform: store UTC, show and reason in Asia/Shanghai (北京时间)."""
from __future__ import annotations

import re as _re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain.patterns import lazy_re
from chalicelib.domain.records import record

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
# One resolver for the whole platform: 今天, 明天, 后天, 大后天, 大大后天, 周一…周日, 星期…, 礼拜…, 下周三,
# 本周五, 这周末, 下周末, 11月28日, 28号, 下个月3号, 本月20号, 月底, 下月初, 2027年1月5日, 明年元旦, and the
# festivals whose date is unambiguous (元旦, 劳动节, 国庆, 春节, 中秋, 重阳 …). Text is expected normalised
# (simplified, half-width); all days are Shanghai days. A phrase that names a day the resolver cannot
# pin down whole (下个月 alone, 2月30号) is reported as unresolved, so callers ask instead of guessing.

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5,
             "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_RELATIVE = {"今天": 0, "今日": 0, "今儿": 0, "明天": 1, "明日": 1, "明儿": 1, "后天": 2, "後天": 2, "大后天": 3,
             "大後天": 3, "大大后天": 4}
_MONTH_SHIFT = {"上": -1, "上个": -1, "本": 0, "这": 0, "这个": 0, "下": 1, "下个": 1, "下下": 2, "下下个": 2}
_YEAR_SHIFT = {"今年": 0, "明年": 1, "后年": 2}
# Festivals on a fixed solar date, and lunar ones from a table (the days they fall on, 2025-2030).
_SOLAR_FESTIVALS = {"元旦": (1, 1), "妇女节": (3, 8), "三八节": (3, 8), "植树节": (3, 12), "劳动节": (5, 1),
                    "五一节": (5, 1), "青年节": (5, 4), "儿童节": (6, 1), "建党节": (7, 1), "建军节": (8, 1),
                    "教师节": (9, 10), "国庆节": (10, 1), "国庆": (10, 1), "平安夜": (12, 24), "圣诞节": (12, 25),
                    "圣诞": (12, 25)}
_LUNAR_FESTIVALS = {
    "春节": ("2025-01-29", "2026-02-17", "2027-02-06", "2028-01-26", "2029-02-13", "2030-02-03"),
    "大年初一": ("2025-01-29", "2026-02-17", "2027-02-06", "2028-01-26", "2029-02-13", "2030-02-03"),
    "除夕": ("2025-01-28", "2026-02-16", "2027-02-05", "2028-01-25", "2029-02-12", "2030-02-02"),
    "元宵节": ("2025-02-12", "2026-03-03", "2027-02-20", "2028-02-09", "2029-02-27", "2030-02-17"),
    "元宵": ("2025-02-12", "2026-03-03", "2027-02-20", "2028-02-09", "2029-02-27", "2030-02-17"),
    "端午节": ("2025-05-31", "2026-06-19", "2027-06-09", "2028-05-28", "2029-06-16", "2030-06-05"),
    "端午": ("2025-05-31", "2026-06-19", "2027-06-09", "2028-05-28", "2029-06-16", "2030-06-05"),
    "中秋节": ("2025-10-06", "2026-09-25", "2027-09-15", "2028-10-03", "2029-09-22", "2030-09-12"),
    "中秋": ("2025-10-06", "2026-09-25", "2027-09-15", "2028-10-03", "2029-09-22", "2030-09-12"),
    "重阳节": ("2025-10-29", "2026-10-18", "2027-10-08", "2028-10-26", "2029-10-16", "2030-10-05"),
    "重阳": ("2025-10-29", "2026-10-18", "2027-10-08", "2028-10-26", "2029-10-16", "2030-10-05"),
}
_FESTIVALS = sorted(set(_SOLAR_FESTIVALS) | set(_LUNAR_FESTIVALS), key=len, reverse=True)
_NUM = r"(?:\d{1,2}|[一二三四五六七八九十两]{1,3})"
_MONTH_WORD = r"(?P<shift>下下个?|下个?|这个?|本|上个?)月"
_PATTERNS = [
    ("year_month_day", lazy_re(rf"(?:(?P<year>\d{{4}})\s*年|(?P<yword>今年|明年|后年))\s*(?P<month>{_NUM})\s*月"
                               rf"\s*(?P<day>{_NUM})\s*[日号]?")),
    ("festival", lazy_re(rf"(?P<yword>今年|明年|后年)?\s*(?:的)?(?P<name>{'|'.join(map(_re.escape, _FESTIVALS))})")),
    ("month_edge", lazy_re(r"(?:(?P<shift>下下个?|下个?|这个?|本|上个?)月?)?月(?P<edge>底|末|初)")),
    ("shifted_month_day", lazy_re(rf"{_MONTH_WORD}\s*的?\s*(?P<day>{_NUM})\s*[号日]")),
    ("month_day", lazy_re(rf"(?P<month>{_NUM})\s*月\s*(?P<day>{_NUM})\s*[日号]?")),
    ("day_only", lazy_re(rf"(?<![月\d一二三四五六七八九十])(?P<day>{_NUM})\s*[号日](?![子楼线院门床房室])")),
    ("weekday", lazy_re(r"(?P<which>下下|下个?|这个?|本|上个?)?\s*(?:周|星期|礼拜)(?P<wd>[一二三四五六日天末1-7])")),
    ("relative", lazy_re("|".join(sorted(map(_re.escape, _RELATIVE), key=len, reverse=True)))),
    # Named but not pinned down: 下个月 alone, 明年 alone. Reported so that the caller asks.
    ("vague", lazy_re(rf"{_MONTH_WORD}(?![底末初]|\s*的?\s*(?:{_NUM}\s*[号日]|月[底末初]))"
                      rf"|(?:今年|明年|后年)(?!\s*(?:\d|{_NUM}\s*月|的?(?:{'|'.join(_FESTIVALS)})))")),
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


def _shift_month(today: date, shift: int) -> tuple[int, int]:
    index = today.year * 12 + today.month - 1 + shift
    return index // 12, index % 12 + 1


def _last_day(year: int, month: int) -> date:
    year2, month2 = (year + 1, 1) if month == 12 else (year, month + 1)
    return date(year2, month2, 1) - timedelta(days=1)


@record
class DayReading:
    """What a text says about a day: `day` when a phrase resolves whole; `phrase` when there is one."""

    day: date | None
    phrase: str | None

    @property
    def unclear(self) -> bool:
        """A day was named but cannot be pinned down: ask the resident (never guess today)."""
        return self.phrase is not None and self.day is None


def read_day(text: str, today: date) -> DayReading:
    """The first date phrase in `text`: resolved to a Shanghai day, or reported as unclear.

    Weekdays alone mean the coming one (today counts: 周日 asked on a Sunday is today); 下周X is that day
    of next week (weeks start on Monday); 本周X/这周X is this week's, even if past. A month and day
    already more than a week past means next year; a day of the month already past means next month.
    """
    found: list[tuple[int, int, date | None, str]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            phrase = match.group(0).strip()
            if not phrase:
                continue
            found.append((match.start(), -len(phrase), _resolve(kind, match, today), phrase))
    if not found:
        return DayReading(None, None)
    start, _, day, phrase = min(found, key=lambda f: (f[0], f[1]))
    return DayReading(day, phrase)


def resolve_day(text: str, today: date) -> tuple[date, str] | None:
    """The first date phrase in `text` as a Shanghai day (and the phrase), or None (none, or unclear)."""
    reading = read_day(text, today)
    return (reading.day, reading.phrase) if reading.day else None


def _resolve(kind: str, match: _re.Match, today: date) -> date | None:
    if kind == "vague":
        return None
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
    if kind == "festival":
        return _festival(match.group("name"), _YEAR_SHIFT.get(match.group("yword") or ""), today)
    if kind == "month_edge":
        shift = match.group("shift")
        year, month = _shift_month(today, _MONTH_SHIFT[shift] if shift else 0)
        if match.group("edge") == "初":
            day = date(year, month, 1)
            return day if shift or day >= today else date(*_shift_month(today, 1), 1)
        return _last_day(year, month)
    day_number = _number(match.group("day"))
    if day_number is None or not 1 <= day_number <= 31:
        return None
    if kind == "year_month_day":
        month = _number(match.group("month"))
        year = int(match.group("year")) if match.group("year") else today.year + _YEAR_SHIFT[match.group("yword")]
        return _safe_date(year, month, day_number) if month and 1 <= month <= 12 else None
    if kind == "shifted_month_day":
        return _safe_date(*_shift_month(today, _MONTH_SHIFT[match.group("shift")]), day_number)
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


def _festival(name: str, year_shift: int | None, today: date) -> date | None:
    """The festival's next day on or after today (or in the year named: 明年元旦)."""
    if name in _SOLAR_FESTIVALS:
        month, day = _SOLAR_FESTIVALS[name]
        days = [date(today.year + k, month, day) for k in range(0, 3)]
    else:
        days = [date.fromisoformat(d) for d in _LUNAR_FESTIVALS[name]]
    if year_shift is not None:
        return next((d for d in days if d.year == today.year + year_shift), None)
    return next((d for d in days if d >= today), None)


WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def describe_day(day: date, today: date) -> str:
    """11月28日（周六，明天）: how the platform writes a day back to residents."""
    delta = (day - today).days
    near = {0: "今天", 1: "明天", 2: "后天"}.get(delta)
    label = f"{day.month}月{day.day}日（{WEEKDAY_NAMES[day.weekday()]}"
    return label + (f"，{near}）" if near else "）")
