"""Community canteens (社区食堂): menus in residents' words, and meal delivery orders for elders.

Pure rules: how a menu reads in a reply, which day and meal a question is about, when orders close
(the canteen's cut-off the evening before), which named dishes are on the day's menu, and how much
delivery capacity an order takes.
"""
from __future__ import annotations

from dataclasses import field
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable

from chalicelib.domain.dates import SHANGHAI, describe_day
from chalicelib.domain.errors import DomainError
from chalicelib.domain.meals import MEAL_NAMES
from chalicelib.domain.patterns import lazy_re
from chalicelib.domain.records import record

MEAL_ORDER = ("breakfast", "lunch", "dinner")


@record
class CanteenView:
    canteen_id: str
    name: str
    community_id: str
    order_cutoff: str  # HH:MM the day before
    capacity: dict[str, int] = field(default_factory=dict)  # meal -> portions a meal can deliver
    hours: dict[str, tuple[str, str]] = field(default_factory=dict)
    elder_subsidy_fen: int = 0


def serving_canteen(canteens: Iterable[tuple[str, str]]) -> str | None:
    """Of a community's canteens, as (canteen id, kind), the one that serves its residents (服务本社区的食堂):
    its community canteen, else an elder meal point; the lowest id among equals. None when it has none."""
    ranked = sorted(canteens, key=lambda c: (c[1] != "community_canteen", c[0]))
    return ranked[0][0] if ranked else None


@record
class Household:
    """户: the household an order is delivered to (personal data, with consent)."""

    profile_id: str
    name: str | None
    address: str | None
    phone: str | None
    grid: str | None
    household_size: int | None
    mobility: str | None
    dietary_notes: str | None
    relation: str | None


class OrderRefused(ValueError):
    """An order that cannot be taken (too late, no such meal, no delivery); the message is for the resident."""


def yuan(fen: int) -> str:
    return f"{fen / 100:.0f}元" if fen % 100 == 0 else f"{fen / 100:.1f}元"


def format_meal(meal: dict[str, Any]) -> str:
    dishes = [f"{d['name']} {yuan(int(d['price_fen']))}" + (f"（{'、'.join(d['marks'])}）" if d.get("marks") else "")
              for d in meal.get("dishes", [])]
    sets = [f"{s['name']} {yuan(int(s['price_fen']))}（{'+'.join(s.get('dishes', []))}）" for s in meal.get("sets", [])]
    return "、".join(dishes) + (("；套餐：" + "、".join(sets)) if sets else "")


def format_menu(canteen: CanteenView, day: date, today: date, meals: dict[str, Any] | None,
                only: str | None = None, now: datetime | None = None) -> str:
    """The reply to 明天食堂有什么菜: that day's menu and prices, or a plain 'not published yet'."""
    label = describe_day(day, today)
    if not meals:
        return f"{canteen.name}{label}的菜单还没有发布，发布后再来问我吧。"
    lines = [f"{canteen.name}{label}菜单："]
    for name in MEAL_ORDER:
        if name in meals and (only is None or only == name):
            lines.append(f"{MEAL_NAMES[name]}：{format_meal(meals[name])}")
    if len(lines) == 1:
        return f"{canteen.name}{label}没有{MEAL_NAMES.get(only or '', '这一餐')}。"
    if canteen.elder_subsidy_fen:
        lines.append(f"60岁以上老人每餐补贴{yuan(canteen.elder_subsidy_fen)}。")
    lines.append(order_hint(canteen, day, today, now))
    return "\n".join(lines)


def order_hint(canteen: CanteenView, day: date, today: date, now: datetime | None) -> str:
    """How to order, naming a day that is still open (never one past its cut-off)."""
    if now is None or now < order_deadline(canteen, day):
        target = day if day > today else today + timedelta(days=1)
    else:
        target = today + timedelta(days=1)
    while now is not None and now >= order_deadline(canteen, target):
        target += timedelta(days=1)
    words = {1: "明天", 2: "后天", 3: "大后天"}.get((target - today).days, f"{target.month}月{target.day}日")
    return f"需要送餐请直接留言，例如“{words}中午送两份饭”（前一天{canteen.order_cutoff}前预订）。"


_ASKED_DISH = lazy_re(r"有没有(?P<dish>[^?？吗呢,，。!！]+)|有(?P<dish2>[^?？,，。!！]+?)吗")


def asked_dish(text: str) -> str | None:
    """后天有没有饺子 -> 饺子."""
    found = _ASKED_DISH.search(text)
    if not found:
        return None
    dish = (found.group("dish") or found.group("dish2") or "").strip()
    for word in ("什么菜", "什么", "菜"):
        if dish == word:
            return None
    return dish or None


def dishes_on(meals: dict[str, Any] | None, meal: str | None = None) -> list[dict[str, Any]]:
    if not meals:
        return []
    chosen = [meals[meal]] if meal and meal in meals else list(meals.values())
    return [d for m in chosen for d in m.get("dishes", [])] + [
        {"name": s["name"], "price_fen": s["price_fen"]} for m in chosen for s in m.get("sets", [])]


def answer_dish(canteen: CanteenView, day: date, today: date, meals: dict[str, Any] | None, dish: str) -> str:
    label = describe_day(day, today)
    if not meals:
        return f"{canteen.name}{label}的菜单还没有发布，发布后再来问我吧。"
    words = {dish} | ({dish[:-1]} if dish.endswith("子") and len(dish) >= 2 else set())  # 饺子 is 水饺 too
    hits = [d for d in dishes_on(meals) if any(w in d["name"] for w in words)]
    if not hits:
        return f"{canteen.name}{label}的菜单里没有{dish}。回复“{label[:label.index('（')]}菜单”看全部菜品。"
    return f"有！{canteen.name}{label}：" + "、".join(f"{d['name']} {yuan(int(d['price_fen']))}" for d in hits)


def order_deadline(canteen: CanteenView, day: date) -> datetime:
    """Orders for `day` close at the canteen's cut-off on the evening before (Shanghai)."""
    hour, minute = (int(x) for x in canteen.order_cutoff.split(":"))
    return datetime.combine(day - timedelta(days=1), time(hour, minute), tzinfo=SHANGHAI)


def check_order(canteen: CanteenView, day: date, meal: str, portions: int, now: datetime) -> None:
    """Raise OrderRefused with a clear reason when the order cannot be taken."""
    deadline = order_deadline(canteen, day)
    if now >= deadline:
        label = describe_day(day, now.astimezone(SHANGHAI).date())
        raise OrderRefused(f"{label}{MEAL_NAMES[meal]}的送餐预订已在{deadline.month}月{deadline.day}日"
                           f"{canteen.order_cutoff}截止。可以预订之后的日子，或给社区打电话。")
    capacity = canteen.capacity.get(meal, 0)
    if capacity <= 0:
        raise OrderRefused(f"{canteen.name}的{MEAL_NAMES[meal]}不提供送餐。")
    if portions > capacity:
        raise OrderRefused(f"一次最多预订 {capacity} 份。")


def delivery_key(canteen_id: str, day: date, meal: str) -> str:
    """canteen#day#meal: one meal's deliveries (the delivery list's key)."""
    return f"{canteen_id}#{day.isoformat()}#{meal}"


def capacity_counter(key: str) -> str:
    """The counter of places taken for the meal with delivery key `key`."""
    return f"capacity#{key}"


def named_dishes(text: str, meals: dict[str, Any] | None, meal: str) -> list[str]:
    """Dishes of that meal the resident named (梅菜扣肉 …)."""
    return [d["name"] for d in dishes_on(meals, meal) if d["name"] in text]


class MenuInvalid(DomainError):
    """A menu staff wrote is malformed; the message says where, in Chinese."""


MARKS = ("软烂", "少盐", "少油", "少糖", "清淡", "少刺", "素食", "含坚果")


def validate_meals(meals: Any) -> dict[str, Any]:
    """{meal: {dishes: [{name, price_fen, marks?}], sets?: [{name, price_fen, dishes}]}} or MenuInvalid."""
    if not isinstance(meals, dict):
        raise MenuInvalid("meals 应为对象：{\"lunch\": {\"dishes\": [...]}}")
    clean: dict[str, Any] = {}
    for meal, body in meals.items():
        if meal not in MEAL_NAMES:
            raise MenuInvalid(f"未知的餐次 {meal}（可选：{'、'.join(MEAL_NAMES)}）")
        if not isinstance(body, dict) or not isinstance(body.get("dishes", []), list):
            raise MenuInvalid(f"{MEAL_NAMES[meal]}：应为 {{dishes: [...], sets: [...]}}")
        dishes = []
        for i, dish in enumerate(body.get("dishes", [])):
            if not isinstance(dish, dict) or not isinstance(dish.get("name"), str) or not dish["name"].strip():
                raise MenuInvalid(f"{MEAL_NAMES[meal]}第{i + 1}道菜缺少名称")
            price = dish.get("price_fen")
            if not isinstance(price, int) or isinstance(price, bool) or not 0 <= price <= 100000:
                raise MenuInvalid(f"{MEAL_NAMES[meal]}“{dish['name']}”的价格应为 0 到 100000 分的整数")
            marks = dish.get("marks", [])
            if not isinstance(marks, list) or any(m not in MARKS for m in marks):
                raise MenuInvalid(f"“{dish['name']}”的标记只能是：{'、'.join(MARKS)}")
            dishes.append({"name": dish["name"].strip()[:30], "price_fen": price, **({"marks": marks} if marks else {})})
        sets = []
        for s in body.get("sets", []) or []:
            if not isinstance(s, dict) or not isinstance(s.get("name"), str) or not isinstance(s.get("price_fen"), int):
                raise MenuInvalid(f"{MEAL_NAMES[meal]}的套餐需要名称和价格（分）")
            sets.append({"name": s["name"][:30], "price_fen": s["price_fen"],
                         "dishes": [str(d)[:30] for d in s.get("dishes", [])]})
        clean[meal] = {"dishes": dishes, **({"sets": sets} if sets else {})}
    return clean


def week_of(day: date) -> list[date]:
    """The Monday-to-Sunday week holding `day`."""
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=i) for i in range(7)]
