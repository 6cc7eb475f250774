"""The canteen in WeChat: menus in residents' own words, meal delivery orders, and the household profile
an order is delivered to (address with consent; a relative may register for an elder)."""
from __future__ import annotations

import uuid

from chalicelib.domain.canteen import Household, answer_dish, asked_dish, format_menu
from chalicelib.domain.dates import local_date, read_day
from chalicelib.domain.effects import Decision, DeleteProfile, EndConversation, SaveProfile, Transition
from chalicelib.domain.masking import mask_address, mask_phone
from chalicelib.domain.meals import MEAL_WORDS
from chalicelib.domain.messages import Reply
from chalicelib.domain.requests import OPEN_STATES, Actor, plan_contact
from chalicelib.domain.router import Context, router


def _meal_asked(text: str) -> str | None:
    for name, words in MEAL_WORDS:
        if any(w in text for w in words):
            return name
    return None


@router.action("canteen_menu")
def canteen_menu(ctx: Context) -> Decision:
    """明天食堂有什么菜 / 今天中午吃什么 / 周三的菜单 / 后天有没有饺子."""
    if not ctx.account.community_id:
        return Decision(Reply(text="食堂菜单在各社区的公众号里，请到您所在社区的公众号问，例如“找香港花园”。"))
    canteen = ctx.ports.canteen_for(ctx.account.community_id)
    if canteen is None:
        return Decision(Reply(text="本社区还没有社区食堂或长者助餐点。"))
    today = local_date(ctx.now)
    reading = read_day(ctx.text, today)
    if reading.unclear:  # a day was named that cannot be pinned down: ask, never answer for today
        return Decision(Reply(text=f"您说的“{reading.phrase}”是哪一天？请说具体日期，例如“12月3日的菜单”或“下周三的菜单”。"))
    day = reading.day or today
    meals = ctx.ports.menu(canteen.canteen_id, day)
    dish = asked_dish(ctx.text)
    if dish:
        return Decision(Reply(text=answer_dish(canteen, day, today, meals, dish)))
    return Decision(Reply(text=format_menu(canteen, day, today, meals, only=_meal_asked(ctx.text), now=ctx.now)))


def _save_profile(ctx: Context, existing: Household | None, fields: dict, relation: str | None = None) -> SaveProfile:
    """The effect that saves `fields` on the resident's household (a new one if they have none yet),
    keeping how they are linked to it unless `relation` says otherwise."""
    return SaveProfile(ctx.account.account_id, ctx.message.openid,
                       existing.profile_id if existing else uuid.uuid4().hex, ctx.account.community_id, fields,
                       relation=relation or (existing.relation if existing else None) or "self")


@router.action("provide_address")
def provide_address(ctx: Context) -> Decision:
    """地址 香港中路10号3单元502: records the address (with consent) and attaches it to the meal order that
    asked for it (filed already, flagged 待补地址), which then leaves the flag behind."""
    address = str(ctx.params.get("address", "")).strip()
    if len(address) < 4:
        return Decision(Reply(text="地址太短了，请写到门牌号，例如：地址 香港中路10号3单元502"))
    existing = ctx.ports.household(ctx.account.account_id, ctx.message.openid)
    effects: tuple = (_save_profile(ctx, existing, {"address": address}),)
    conversation = ctx.ports.conversation(ctx.account.account_id, ctx.message.openid, ctx.now)
    number = (conversation or {}).get("pending", {}).get("number")
    request = ctx.ports.request(number) if number else None
    if request is None or request.openid != ctx.message.openid or request.state not in OPEN_STATES:
        return Decision(Reply(text=f"已登记您的地址：{mask_address(address)}。回复“我的资料”可查看，"
                                   "“删除我的资料”可删除。"), effects)
    plan = plan_contact(request, Actor("resident", ctx.message.openid), ctx.now, {"address": address})
    effects += (Transition(plan), EndConversation(ctx.account.account_id, ctx.message.openid))
    return Decision(Reply(text=f"已登记您的地址：{mask_address(address)}，纸条 {request.number} 会送到这里。"
                               "回复“我的纸条”可查看办理进度。"), effects)


@router.action("register_for_relative")
def register_for_relative(ctx: Context) -> Decision:
    """帮老人登记 地址 …: a relative registers the elder's household and may order for them."""
    address = str(ctx.params.get("address", "")).strip()
    if len(address) < 4:
        return Decision(Reply(text="请写上老人的详细地址，例如：帮老人登记 地址 香港中路10号3单元502"))
    existing = ctx.ports.household(ctx.account.account_id, ctx.message.openid)
    return Decision(Reply(text=f"已为老人登记送餐地址：{mask_address(address)}。以后您在这里订餐，就送到这个地址。"),
                    (_save_profile(ctx, existing, {"address": address}, relation="relative"),))


@router.action("set_phone")
def set_phone(ctx: Context) -> Decision:
    existing = ctx.ports.household(ctx.account.account_id, ctx.message.openid)
    phone = str(ctx.params.get("phone", ""))
    return Decision(Reply(text=f"已登记联系电话 {mask_phone(phone)}。"),
                    (_save_profile(ctx, existing, {"phone": phone}),))


@router.action("my_profile")
def my_profile(ctx: Context) -> Decision:
    h = ctx.ports.household(ctx.account.account_id, ctx.message.openid)
    if h is None:
        return Decision(Reply(text="您还没有登记资料。订餐时会请您留下地址；也可以回复“地址 …”登记。"))
    # Masked even for the resident: chat replies are kept two days for WeChat's retries. The H5 profile
    # page shows the full values.
    lines = ["您登记的资料：", f"地址：{mask_address(h.address) or '未登记'}", f"电话：{mask_phone(h.phone) or '未登记'}"]
    if h.household_size:
        lines.append(f"家庭人数：{h.household_size}")
    if h.relation == "relative":
        lines.append("（您是为老人登记的家属）")
    lines.append("回复“删除我的资料”可删除。")
    return Decision(Reply(text="\n".join(lines)))


@router.action("delete_profile")
def delete_profile(ctx: Context) -> Decision:
    h = ctx.ports.household(ctx.account.account_id, ctx.message.openid)
    if h is None:
        return Decision(Reply(text="您没有登记过资料，不需要删除。"))
    return Decision(Reply(text="您的资料已删除。以后订餐时会再请您留下地址。"),
                    (DeleteProfile(ctx.account.account_id, ctx.message.openid, h.profile_id),))
