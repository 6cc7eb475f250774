"""Residents' own use cases on the H5 pages (居民自助): file a 便民纸条 from the form, and see, save or
delete the household profile (户档案).

What a resident typed is checked here, in the resident's words: a form that does not pass raises
`FormRejected` (400) with every problem, so the page can show them all and keep what was typed. A
storage failure raises `StorageUnavailable` (503): nothing was written, the resident may try again.
Filing goes through the one filing service (`services.filing.file_need`).
"""
from __future__ import annotations

import re
import uuid
from dataclasses import field
from typing import Any, Mapping

from chalicelib import bootstrap
from chalicelib.domain.effects import DeleteProfile, SaveProfile
from chalicelib.domain.errors import BadRequest, StorageUnavailable
from chalicelib.domain.filing import MAX_TEXT, Need, is_meaningful
from chalicelib.domain.messages import NO_REPLY
from chalicelib.domain.canteen import Household
from chalicelib.domain.patterns import lazy_re
from chalicelib.domain.ports import AccountView
from chalicelib.domain.records import record
from chalicelib.services import filing
from chalicelib.services.filing import Filed

PHONE_RE = lazy_re(r"^\+?[0-9][0-9 -]{4,19}$")
MAX_ADDRESS = 200
CONSENT_REQUEST = "同意社区保存我的地址和电话用于上门服务"
CONSENT_PROFILE = "同意社区保存以上资料，用于送餐和上门服务"
MOBILITY = ("能自行走动", "行动不便", "卧床")
RELATIONS = (("self", "本人"), ("relative", "为家中老人登记"))
PROFILE_LABELS = {"name": "姓名", "address": "地址", "phone": "联系电话", "household_size": "家庭人数",
                  "mobility": "行动情况", "dietary_notes": "饮食注意"}


class FormRejected(BadRequest):
    """The form does not pass: `.problems` says what to change, one sentence each; `.registered` whether
    the resident has a profile (the page offers to delete it)."""

    code = "form_rejected"

    def __init__(self, problems: list[str], registered: bool = False):
        super().__init__("；".join(problems))
        self.problems = tuple(problems)
        self.registered = registered


@record
class ProfileView:
    """The household profile as the form shows it (strings), and whether one is registered."""

    values: dict[str, str]
    registered: bool


@record
class DeleteOutcome:
    """`nothing` (no profile), `ask` (confirm first) or `deleted`."""

    result: str


@record
class SavedProfile:
    values: dict[str, Any] = field(default_factory=dict)
    relation: str = "self"


def clean_phone(value: str | None) -> str:
    return re.sub(r"\s+", "", (value or "").strip().replace("－", "-"))


def _storage_failed(exc: BaseException) -> StorageUnavailable:
    error = StorageUnavailable()
    error.__cause__ = exc
    return error


# ---- 便民纸条 ----------------------------------------------------------------------------------------

def file_request(account: AccountView, openid: str, form: Mapping[str, str], senders: tuple[str, ...] = ()) -> Filed:
    """File the text of the form as a 便民纸条, with the phone and address only if the resident consented.
    `senders` (the H5 session) count against the resident's limits besides the openid (`OverLimit`)."""
    text = (form.get("text") or "").strip()
    phone, address = clean_phone(form.get("phone")), (form.get("address") or "").strip()
    consent = form.get("consent") == "yes"
    problems = []
    if not is_meaningful(text):
        problems.append("请写下需要帮忙的事，例如：3号楼楼道灯坏了。")
    elif len(text) > MAX_TEXT:
        problems.append(f"写得太长了（{len(text)} 字），最多 {MAX_TEXT} 字。请删减一些后再提交。")
    if phone and not PHONE_RE.match(phone):
        problems.append("联系电话的格式不对，请只写数字，例如 13812345678。")
    if len(address) > MAX_ADDRESS:
        problems.append(f"地址太长了，最多 {MAX_ADDRESS} 字。")
    if (phone or address) and not consent:
        problems.append(f"您留了电话或地址：如果同意社区保存，请勾选“{CONSENT_REQUEST}”；不同意的话，请把这两栏清空。")
    if problems:
        raise FormRejected(problems)
    contact = {k: v for k, v in (("phone", phone), ("address", address)) if v} if consent else {}
    try:
        return filing.file_need(account, Need(text=text, channel="h5", openid=openid, contact=contact),
                                senders=senders)
    except bootstrap.storage_errors() as exc:
        raise _storage_failed(exc) from exc


# ---- 户档案 -----------------------------------------------------------------------------------------

def profile(account_id: str, openid: str) -> ProfileView:
    """The resident's household profile, as the form shows it."""
    household = _household(account_id, openid)
    return ProfileView(_values(household), household is not None)


def save_profile(account: AccountView, openid: str, form: Mapping[str, str]) -> SavedProfile:
    """Create or update the profile from the form (consent required; a registered field cannot be
    emptied here, because saving only sets the fields it is given)."""
    household = _household(account.account_id, openid)
    values = _read_profile(form, _values(household), registered=household is not None)
    fields = {k: v for k, v in values.items() if k != "relation"}
    profile_id = household.profile_id if household else uuid.uuid4().hex
    _commit(SaveProfile(account.account_id, openid, profile_id, account.community_id, fields,
                        relation=values["relation"]))
    return SavedProfile(values, values["relation"])


def delete_profile(account_id: str, openid: str, confirmed: bool) -> DeleteOutcome:
    """Delete the profile once the resident confirmed it."""
    household = _household(account_id, openid)
    if household is None:
        return DeleteOutcome("nothing")
    if not confirmed:
        return DeleteOutcome("ask")
    _commit(DeleteProfile(account_id, openid, household.profile_id))
    return DeleteOutcome("deleted")


def _household(account_id: str, openid: str) -> Household | None:
    try:
        return bootstrap.ports().household(account_id, openid)
    except bootstrap.storage_errors() as exc:
        raise _storage_failed(exc) from exc


def _commit(effect: Any) -> None:
    try:
        bootstrap.unit_of_work().commit(None, NO_REPLY, (effect,), bootstrap.now())
    except bootstrap.storage_errors() as exc:
        raise _storage_failed(exc) from exc


def _values(household: Household | None) -> dict[str, str]:
    if household is None:
        return {"relation": "self"}
    return {"name": household.name or "", "address": household.address or "", "phone": household.phone or "",
            "household_size": str(household.household_size or ""), "mobility": household.mobility or "",
            "dietary_notes": household.dietary_notes or "", "relation": household.relation or "self"}


def _read_profile(form: Mapping[str, str], current: dict[str, str], registered: bool) -> dict[str, Any]:
    """The profile fields from the form; FormRejected with every problem (in the resident's words)."""
    problems = []
    values: dict[str, Any] = {
        "name": (form.get("name") or "").strip(), "address": (form.get("address") or "").strip(),
        "phone": clean_phone(form.get("phone")), "household_size": (form.get("household_size") or "").strip(),
        "mobility": (form.get("mobility") or "").strip(), "dietary_notes": (form.get("dietary_notes") or "").strip(),
        "relation": form.get("relation") or "self"}
    if values["relation"] not in dict(RELATIONS):
        problems.append("请选择是本人登记，还是为家中老人登记。")
    if len(values["name"]) > 40:
        problems.append("姓名太长了，最多 40 字。")
    if values["address"] and len(values["address"]) < 4:
        problems.append("地址太短了，请写到门牌号，例如：香港中路10号3单元502。")
    if len(values["address"]) > MAX_ADDRESS:
        problems.append(f"地址太长了，最多 {MAX_ADDRESS} 字。")
    if values["phone"] and not PHONE_RE.match(values["phone"]):
        problems.append("联系电话的格式不对，请只写数字，例如 13812345678。")
    if values["household_size"]:
        size = values["household_size"].translate(str.maketrans("０１２３４５６７８９", "0123456789"))
        if not size.isdigit() or not 1 <= int(size) <= 20:
            problems.append("家庭人数请写 1 到 20 之间的数字。")
        else:
            values["household_size"] = int(size)
    if values["mobility"] and values["mobility"] not in MOBILITY and values["mobility"] != current.get("mobility"):
        problems.append("请从列表里选择行动情况。")
    if len(values["dietary_notes"]) > 200:
        problems.append("饮食注意太长了，最多 200 字。")
    # SaveProfile only sets the fields it is given: a field emptied here would silently stay as it was.
    cleared = [PROFILE_LABELS[k] for k in PROFILE_LABELS if current.get(k) and values[k] in ("", None)]
    if cleared:
        problems.append(f"这里不能清空已登记的{'、'.join(cleared)}。请填上新的内容；"
                        "如果不想让社区保存，请用页面下方的“删除我的资料”，再重新登记需要的内容。")
    if not any(values[k] not in ("", None) for k in PROFILE_LABELS):
        problems.append("请至少填写一项，例如地址。")
    if form.get("consent") != "yes":
        problems.append(f"保存前请勾选“{CONSENT_PROFILE}”。")
    if problems:
        raise FormRejected(problems, registered)
    return values
