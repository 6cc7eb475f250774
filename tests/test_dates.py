"""The one date-phrase resolver (`domain.dates.read_day`): a table of phrases as residents write them, asked
on given days (month ends, year ends, a leap year; traditional characters too). `None` means the phrase
names a day that cannot be pinned down whole, so the platform asks instead of guessing."""
from __future__ import annotations

from datetime import date

import pytest

from chalicelib.domain.dates import read_day
from chalicelib.domain.text import normalise

MON = date(2026, 11, 30)  # a Monday, the last day of November
FRI = date(2026, 11, 27)
SUN = date(2026, 11, 29)
NYE = date(2026, 12, 31)
JAN31 = date(2027, 1, 31)
LEAP = date(2028, 1, 31)
d = date

PHRASES = [
    # the issue's own examples
    (MON, "下个月30号食堂有什么菜", d(2026, 12, 30)), (MON, "下月30号", d(2026, 12, 30)),
    (MON, "下个月3号的菜单", d(2026, 12, 3)), (MON, "下个月的3号", d(2026, 12, 3)), (MON, "本月30号", d(2026, 11, 30)),
    (MON, "这个月30号", d(2026, 11, 30)), (MON, "这月28号", d(2026, 11, 28)), (MON, "月底", d(2026, 11, 30)),
    (MON, "月末有饺子吗", d(2026, 11, 30)), (MON, "下月底", d(2026, 12, 31)), (MON, "下个月月底", d(2026, 12, 31)),
    (MON, "下个月底", d(2026, 12, 31)), (MON, "下月初", d(2026, 12, 1)), (MON, "月初", d(2026, 12, 1)),
    (MON, "本月底", d(2026, 11, 30)), (MON, "下下个月1号", d(2027, 1, 1)), (MON, "这周末", d(2026, 12, 5)),
    (MON, "本周末", d(2026, 12, 5)), (MON, "下周末", d(2026, 12, 12)), (MON, "周末吃什么", d(2026, 12, 5)),
    (MON, "大大后天", d(2026, 12, 4)), (MON, "大后天", d(2026, 12, 3)), (MON, "后天", d(2026, 12, 2)),
    (MON, "明天", d(2026, 12, 1)), (MON, "今天", d(2026, 11, 30)),
    # named days
    (MON, "元旦食堂开吗", d(2027, 1, 1)), (MON, "明年元旦", d(2027, 1, 1)), (MON, "国庆", d(2027, 10, 1)),
    (MON, "国庆节", d(2027, 10, 1)), (MON, "劳动节", d(2027, 5, 1)), (MON, "春节有没有饺子", d(2027, 2, 6)),
    (MON, "大年初一", d(2027, 2, 6)), (MON, "除夕", d(2027, 2, 5)), (MON, "元宵节", d(2027, 2, 20)),
    (MON, "端午节", d(2027, 6, 9)), (MON, "中秋", d(2027, 9, 15)), (MON, "重阳节的活动", d(2027, 10, 8)),
    (MON, "圣诞节", d(2026, 12, 25)), (MON, "平安夜", d(2026, 12, 24)), (MON, "儿童节", d(2027, 6, 1)),
    (MON, "妇女节", d(2027, 3, 8)), (d(2026, 10, 1), "国庆", d(2026, 10, 1)), (d(2026, 9, 1), "中秋节", d(2026, 9, 25)),
    (d(2026, 10, 1), "重阳", d(2026, 10, 18)), (d(2026, 6, 1), "端午", d(2026, 6, 19)),
    # dates with a year
    (MON, "2027年1月5日", d(2027, 1, 5)), (MON, "2026年12月3号", d(2026, 12, 3)), (MON, "明年1月5号", d(2027, 1, 5)),
    (MON, "今年12月20日", d(2026, 12, 20)), (MON, "2027年2月29日", None), (MON, "2028年2月29日", d(2028, 2, 29)),
    (MON, "后年1月1日", d(2028, 1, 1)),
    # weekdays asked on a Monday
    (MON, "周一", d(2026, 11, 30)), (MON, "周二", d(2026, 12, 1)), (MON, "周三", d(2026, 12, 2)),
    (MON, "周四", d(2026, 12, 3)), (MON, "周五", d(2026, 12, 4)), (MON, "周六", d(2026, 12, 5)),
    (MON, "周日", d(2026, 12, 6)), (MON, "周天", d(2026, 12, 6)), (MON, "星期一", d(2026, 11, 30)),
    (MON, "星期二", d(2026, 12, 1)), (MON, "星期三", d(2026, 12, 2)), (MON, "星期四", d(2026, 12, 3)),
    (MON, "星期五", d(2026, 12, 4)), (MON, "星期六", d(2026, 12, 5)), (MON, "星期日", d(2026, 12, 6)),
    (MON, "星期天", d(2026, 12, 6)), (MON, "礼拜一", d(2026, 11, 30)), (MON, "礼拜三", d(2026, 12, 2)),
    (MON, "礼拜天", d(2026, 12, 6)), (MON, "下周一", d(2026, 12, 7)), (MON, "下周二", d(2026, 12, 8)),
    (MON, "下周三", d(2026, 12, 9)), (MON, "下周四", d(2026, 12, 10)), (MON, "下周五", d(2026, 12, 11)),
    (MON, "下周六", d(2026, 12, 12)), (MON, "下周日", d(2026, 12, 13)), (MON, "下个星期三", d(2026, 12, 9)),
    (MON, "下个礼拜五", d(2026, 12, 11)), (MON, "下下周一", d(2026, 12, 14)), (MON, "这周三", d(2026, 12, 2)),
    (MON, "本周五", d(2026, 12, 4)), (MON, "这个星期天", d(2026, 12, 6)), (MON, "上周五", d(2026, 11, 27)),
    (MON, "周1", d(2026, 11, 30)), (MON, "周7", d(2026, 12, 6)),
    # day of the month, month and day
    (MON, "1号", d(2026, 12, 1)), (MON, "30号", d(2026, 11, 30)), (MON, "29号", d(2026, 12, 29)),
    (MON, "3号的菜", d(2026, 12, 3)), (MON, "三号", d(2026, 12, 3)), (MON, "十五号", d(2026, 12, 15)),
    (MON, "二十号", d(2026, 12, 20)), (MON, "二十五日", d(2026, 12, 25)), (MON, "31号", d(2026, 12, 31)),
    (MON, "12月1日", d(2026, 12, 1)), (MON, "12月1号", d(2026, 12, 1)), (MON, "十二月一日", d(2026, 12, 1)),
    (MON, "11月25日", d(2026, 11, 25)), (MON, "11月1日", d(2027, 11, 1)), (MON, "1月3日", d(2027, 1, 3)),
    (MON, "12月31日", d(2026, 12, 31)), (MON, "2月29日", None), (MON, "11月31日", None), (MON, "13月1日", None),
    # month and year ends, a leap year
    (NYE, "明天", d(2027, 1, 1)), (NYE, "后天", d(2027, 1, 2)), (NYE, "下个月3号", d(2027, 1, 3)),
    (NYE, "下月底", d(2027, 1, 31)), (NYE, "月初", d(2027, 1, 1)), (NYE, "元旦", d(2027, 1, 1)),
    (NYE, "1月2日", d(2027, 1, 2)), (NYE, "2号", d(2027, 1, 2)), (NYE, "周五", d(2027, 1, 1)),
    (NYE, "下周一", d(2027, 1, 4)), (NYE, "月底", d(2026, 12, 31)), (NYE, "明年元旦", d(2027, 1, 1)),
    (JAN31, "下个月30号", None), (JAN31, "下个月28号", d(2027, 2, 28)), (JAN31, "下月底", d(2027, 2, 28)),
    (JAN31, "明天", d(2027, 2, 1)), (JAN31, "30号", None), (JAN31, "31号", d(2027, 1, 31)),
    (LEAP, "下月底", d(2028, 2, 29)), (LEAP, "下个月29号", d(2028, 2, 29)), (LEAP, "29号", d(2028, 2, 29)),
    (d(2028, 2, 28), "明天", d(2028, 2, 29)), (d(2028, 2, 28), "后天", d(2028, 3, 1)),
    (FRI, "周日", d(2026, 11, 29)), (SUN, "周日", d(2026, 11, 29)), (SUN, "下周日", d(2026, 12, 6)),
    (SUN, "这周末", d(2026, 11, 28)), (SUN, "明天", d(2026, 11, 30)),
    # traditional characters
    (MON, "下個月30號食堂有什麼菜", d(2026, 12, 30)), (MON, "這週末", d(2026, 12, 5)), (MON, "下週三", d(2026, 12, 9)),
    (MON, "禮拜四", d(2026, 12, 3)), (MON, "聖誕節", d(2026, 12, 25)), (MON, "國慶節", d(2027, 10, 1)),
    (MON, "元宵節", d(2027, 2, 20)), (MON, "後天", d(2026, 12, 2)), (MON, "大後天", d(2026, 12, 3)),
    (MON, "明天食堂有什麼菜", d(2026, 12, 1)), (MON, "本月底", d(2026, 11, 30)), (MON, "下月初", d(2026, 12, 1)),
    # full-width digits
    (MON, "１２月３日", d(2026, 12, 3)), (MON, "下个月３号", d(2026, 12, 3)),
    # named but not pinned down: ask
    (MON, "下个月食堂有什么菜", None), (MON, "下个月的菜单", None), (MON, "明年", None), (MON, "下月", None),
]
NO_PHRASE = [(MON, "食堂有什么菜"), (MON, "3号楼的灯坏了"), (MON, "我们老两口身体不便"), (MON, "帮助"),
             (MON, "我的纸条"), (MON, "五一路口的灯")]


@pytest.mark.parametrize("today, phrase, expected", PHRASES)
def test_a_phrase_resolves_to_its_day_or_is_reported_unclear(today, phrase, expected):
    reading = read_day(normalise(phrase), today)
    assert reading.phrase, f"no date phrase found in {phrase!r}"
    assert reading.day == expected, (phrase, reading)
    assert reading.unclear == (expected is None)


@pytest.mark.parametrize("today, text", NO_PHRASE)
def test_text_without_a_date_phrase_names_no_day(today, text):
    assert read_day(normalise(text), today).phrase is None


def test_the_table_is_large_enough():
    assert len(PHRASES) >= 150
