"""Meal delivery (送餐) read from a resident's words: which day, which meal, how many portions."""
from __future__ import annotations

from datetime import date

from chalicelib.domain.dates import read_day
from chalicelib.domain.patterns import lazy_re

MEAL_WORDS = (("breakfast", ("早餐", "早饭", "早点", "早上")), ("dinner", ("晚餐", "晚饭", "晚上")),
              ("lunch", ("午餐", "午饭", "中午", "中饭")))
MEAL_NAMES = {"breakfast": "早餐", "lunch": "午餐", "dinner": "晚餐"}
_PORTIONS = (
    (lazy_re(r"(\d+|[一二两三四五六七八九十])\s*(?:份|人份|个人|口人|位)"), None),
    (lazy_re(r"老两口|我们两个|我们俩|我俩|两口子|老伴和我|我和老伴"), 2),
    (lazy_re(r"我一个人|一个人|独居|就我自己"), 1),
)
_CN = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def read_meal_order(text: str, today: date) -> dict:
    """{day, meal, portions, meal_asked} from normalised text. Without a day: None (the caller takes
    tomorrow: orders close the evening before); a day named but unclear: None and `day_unclear` with the
    phrase; without a meal: lunch, and `meal_asked` is False so the reply can say so."""
    reading = read_day(text, today)
    day = reading.day
    meal, asked = "lunch", False
    for name, words in MEAL_WORDS:
        if any(w in text for w in words):
            meal, asked = name, True
            break
    portions = 1
    for pattern, fixed in _PORTIONS:
        hit = pattern.search(text)
        if hit:
            portions = fixed or (int(hit.group(1)) if hit.group(1).isdigit() else _CN.get(hit.group(1), 1))
            break
    found = {"day": day.isoformat() if day else None, "meal": meal, "meal_asked": asked,
             "portions": max(1, min(portions, 20))}
    if reading.unclear:
        found["day_unclear"] = reading.phrase
    return found
