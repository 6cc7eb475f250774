"""Filing a 便民纸条 (提交纸条): the one way a resident's need becomes a numbered request, whatever the
channel — WeChat text, voice or photo, the H5 form, staff taking a phone call, a partner over Open311.

`plan_need` is the one place that classifies, routes, numbers, and decides whether the need is a meal
order (and then checks the canteen's cut-off, the address and the capacity). File first, always: a rule
never swallows a need. A late order, a full meal, a day without a menu, a resident without an address
are filed all the same, with a flag staff see (`FLAGS`), and the resident is told the number and what
happens next in plain words.
"""
from __future__ import annotations

from dataclasses import field, replace
from datetime import date, datetime, time, timedelta

from chalicelib.domain.canteen import (
    CanteenView,
    Household,
    OrderRefused,
    capacity_counter,
    check_order,
    delivery_key,
    named_dishes,
)
from chalicelib.domain.dates import SHANGHAI, describe_day, local_date
from chalicelib.domain.effects import Decision, NewRequest, ReserveCapacity, SaveConversation
from chalicelib.domain.masking import mask_address
from chalicelib.domain.meals import MEAL_NAMES, read_meal_order
from chalicelib.domain.messages import Reply
from chalicelib.domain.patterns import lazy_re
from chalicelib.domain.ports import AccountView, Ports
from chalicelib.domain.records import record
from chalicelib.domain.requests import check_category, classify, due_at, fingerprint
from chalicelib.domain.text import normalise

MEANINGFUL = lazy_re(r"[^\W_]")  # a letter, digit or Chinese character
MAX_TEXT = 5000
ADDRESS_WAIT = timedelta(days=2)  # how long "地址 …" still attaches to the order that asked for it

# Flags on a filed request that staff must act on (shown in the console and on the delivery list).
FLAGS = {
    "late": "逾时",             # a meal order after the canteen's cut-off
    "capacity_full": "名额已满",  # the meal's delivery places were gone
    "needs_address": "待补地址",  # a meal order without an address on file
    "no_menu": "菜单未发布",      # the day's menu is not published yet
    "no_delivery": "不提供送餐",  # the canteen does not deliver that meal
    "day_unclear": "日期待确认",  # a day was named that cannot be pinned down (下个月, 2月30号)
}

ASK_ADDRESS = ("为了把饭送到家，请回复“地址”加上您的详细地址，例如：\n地址 香港中路10号3单元502\n"
               "不方便打字的话，社区工作人员会打电话跟您确认。地址只用于社区送餐和上门服务，"
               "回复“删除我的资料”可随时删除。")


@record
class Need:
    """What a resident asked for, as a channel received it."""

    text: str
    channel: str  # wechat | voice | h5 | staff | open311
    openid: str | None = None
    media_id: str | None = None
    category: str | None = None  # chosen by staff or a partner; else classified from the text
    contact: dict[str, str] = field(default_factory=dict)
    grid: str | None = None
    actor: str = "resident"
    partner: str | None = None
    claim: str | None = None  # the delivery (account#MsgId) the need came with: its retries reuse the number
    meal: dict | None = None  # staff's form: {day, meal, portions} of a meal order, instead of reading the text


def is_meaningful(text: str | None) -> bool:
    return bool(text) and bool(MEANINGFUL.search(text))


def intake(ports: Ports, account: AccountView, now: datetime, need: Need) -> NewRequest:
    """Classify, route and number a new request (the caller commits the returned effect)."""
    policy = ports.policy(account.district_id, account.community_id)
    words = normalise(need.text)
    category = check_category(need.category) if need.category else classify(words, policy)
    route = policy.routes.get(category) or policy.routes["other"]
    team = None
    if route.team_kind and account.community_id:
        team = ports.team_of_kind(account.community_id, route.team_kind)
    details = read_meal_order(words, local_date(now)) if category == "meal_delivery" else {}
    if category == "meal_delivery" and need.meal:  # staff named the day and the meal in the form
        details = {**details, **need.meal, "meal_asked": True}
        details.pop("day_unclear", None)
    if details and details["day"] is None and not details.get("day_unclear"):
        details["day"] = (local_date(now) + timedelta(days=1)).isoformat()
    number = ports.next_request_number(account.request_prefix, now, need.claim)
    guard = (f"{account.account_id}#{need.openid}#{fingerprint(category, words, details.get('day'))}"
             if need.openid else None)
    return NewRequest(number=number, account_id=account.account_id, district_id=account.district_id,
                      community_id=account.community_id, openid=need.openid, channel=need.channel,
                      text=need.text[:MAX_TEXT], media_id=need.media_id, category=category,
                      team_id=team[0] if team else None, department_id=None if team else route.department_id,
                      due_at=due_at(now, category, policy), details=details, guard_key=guard, grid=need.grid,
                      contact=dict(need.contact), actor=need.actor, partner=need.partner)


def plan_need(ports: Ports, account: AccountView, now: datetime, need: Need,
              household: Household | None = None) -> Decision:
    """The request (always), the reply, and what else filing takes (meal places, a question asked)."""
    request = intake(ports, account, now, need)
    if request.details.get("day_unclear"):  # never guess the day: file it, and ask
        request = replace(request, flags=("day_unclear",))
        phrase = request.details["day_unclear"]
        return Decision(Reply(text=f"已收到您的便民纸条，编号 {request.number}。您说的“{phrase}”是哪一天？"
                                   "请回复具体日期，例如“12月3日中午送两份饭”；社区工作人员也会跟您确认。"),
                        (request,))
    if request.category == "meal_delivery" and account.community_id and not need.media_id:
        canteen = ports.canteen_for(account.community_id)
        if canteen is not None:
            return _meal_order(ports, account, now, need, request, canteen, household)
    return Decision(filed_reply(request, _team_name(ports, request), now), (request,))


def _team_name(ports: Ports, request: NewRequest) -> str | None:
    return ports.team_name(request.district_id, request.community_id, request.team_id, request.department_id)


def meal_due(canteen: CanteenView, day: date, meal: str) -> datetime:
    """A meal order is due when the meal is: the end of its delivery slot on that day (Shanghai)."""
    closes = canteen.hours.get(meal, ("", {"breakfast": "09:00", "lunch": "13:00", "dinner": "19:00"}[meal]))[1]
    hour, minute = (int(x) for x in (closes or "13:00").split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def _meal_order(ports: Ports, account: AccountView, now: datetime, need: Need, request: NewRequest,
                canteen: CanteenView, household: Household | None) -> Decision:
    day = date.fromisoformat(request.details["day"])
    meal, portions = request.details["meal"], request.details["portions"]
    household = household or (ports.household(account.account_id, need.openid) if need.openid else None)
    flags: list[str] = []
    notes: list[str] = []
    reserve = None
    try:
        check_order(canteen, day, meal, portions, now)
    except OrderRefused as refused:
        flags.append("no_delivery" if "不提供送餐" in str(refused) else "late")
        notes.append(str(refused).replace("可以预订之后的日子，或给社区打电话。", "").rstrip("。") + "。")
    meals = ports.menu(canteen.canteen_id, day)
    if meals is None:
        flags.append("no_menu")
    key = delivery_key(canteen.canteen_id, day, meal)
    contact = dict(request.contact)
    if household is not None and household.address:
        contact = {"name": household.name or "", "phone": household.phone or "", "address": household.address,
                   **{k: v for k, v in contact.items() if v}}
    elif not contact.get("address"):
        flags.append("needs_address")
    if not {"late", "no_delivery"} & set(flags):  # an order the canteen can still take holds its places
        full = (f"{MEAL_NAMES[meal]}送餐名额已满（每餐 {canteen.capacity.get(meal, 0)} 份）")
        reserve = ReserveCapacity(capacity_counter(key), portions, canteen.capacity.get(meal, 0), full)
    details = {**request.details, "canteen_id": canteen.canteen_id,
               "dishes": named_dishes(normalise(need.text), meals, meal)}
    request = replace(request, details=details, delivery_key=key if reserve else None,
                      profile_id=household.profile_id if household else None,
                      grid=(household.grid if household and household.grid else request.grid), contact=contact,
                      due_at=meal_due(canteen, day, meal), flags=tuple(flags))
    effects: tuple = (request,) + ((reserve,) if reserve else ())
    reply = filed_reply(request, _team_name(ports, request), now)
    text = reply.text
    if details["dishes"]:
        text += f"\n点的菜：{'、'.join(details['dishes'])}。"
    if notes:
        text += "\n" + "".join(notes) + "社区工作人员会联系您，商量改天送或另想办法。"
    if "needs_address" in flags and need.openid:
        text += "\n" + ASK_ADDRESS
        effects += (SaveConversation(account.account_id, need.openid, "address", {"number": request.number},
                                     now + ADDRESS_WAIT),)
    elif "needs_address" in flags:
        text += "\n还没有送餐地址：社区工作人员会电话确认。"
    elif contact.get("address"):
        text += f"\n送到：{mask_address(contact['address'])}"
    return Decision(Reply(text=text), effects)


def with_sender_quota(decision: Decision, quota) -> Decision:
    """The filing with its sender's quota (`domain.limits.SenderQuota`) written in the same transaction."""
    if not any(isinstance(e, NewRequest) for e in decision.effects):
        return decision
    return Decision(decision.reply, tuple(decision.effects) + (quota,))


def without_capacity(decision: Decision, refused_reply: str) -> Decision:
    """The same filing when the meal's last places went to others meanwhile: the request is still filed,
    flagged 名额已满 for staff, and the resident hears the number and what happens next."""
    effects = []
    number = ""
    for effect in decision.effects:
        if isinstance(effect, ReserveCapacity):
            continue
        if isinstance(effect, NewRequest):
            number = effect.number
            effect = replace(effect, delivery_key=None, flags=tuple(effect.flags) + ("capacity_full",))
        effects.append(effect)
    text = (f"已收到您的便民纸条，编号 {number}。{refused_reply}，这次没能排进送餐名单，很抱歉。"
            "社区工作人员会联系您，商量改天送或另想办法。")
    return Decision(Reply(text=text), tuple(effects))


def filed_reply(request: NewRequest, team_name: str | None, now: datetime) -> Reply:
    lines = [f"已收到您的便民纸条，编号 {request.number}。"]
    if request.category == "meal_delivery" and request.details.get("day"):
        day = describe_day(date.fromisoformat(request.details["day"]), local_date(now))
        meal = MEAL_NAMES[request.details["meal"]]
        lines.append(f"送餐：{day}{meal}，{request.details['portions']} 份。")
        if not request.details.get("meal_asked"):
            lines.append("如要早餐或晚餐，请回复说明。")
    if team_name:
        lines.append(f"已转{team_name}安排，")
    lines.append("社区会尽快安排服务人员并回复您。回复“我的纸条”可查看办理进度。")
    return Reply(text="".join(lines))


def duplicate_reply(number: str) -> Reply:
    return Reply(text=f"您刚刚已经提交过同样的需求，纸条编号 {number}，社区正在办理，不用重复提交。"
                      "回复“我的纸条”可查看进度。")
