"""The platform's vocabularies (词表), each defined once: roles, team kinds, canteen kinds, and an index of the
tables that live with their rules (categories and states of 便民纸条, meals, request flags).

The OpenAPI document, the seed validator, the console (`GET /api/v1/vocabulary`) and the store read them
from here; `tests/test_vocabulary.py` checks that nothing keeps its own copy.
"""
from __future__ import annotations

from chalicelib.domain.filing import FLAGS
from chalicelib.domain.meals import MEAL_NAMES
from chalicelib.domain.requests import ACTION_NAMES, CATEGORIES, OPEN_STATES, STATE_NAMES

ROLES = {
    "social_worker": "社工",
    "director": "社区主任",
    "subdistrict_reviewer": "街道审核",
    "district_admin": "区管理员",
    "team_member": "服务队",
    "department": "对接部门",
}

# Which scope field a role is bound to; the scope key is "<field>#<id>".
ROLE_SCOPE = {
    "social_worker": "community_id",
    "director": "community_id",
    "subdistrict_reviewer": "subdistrict_id",
    "district_admin": "district_id",
    "team_member": "team_id",
    "department": "department_id",
}

TEAM_KINDS = {
    "comprehensive": "综合服务队",
    "professional": "专业服务队",
    "service_station": "便民服务站",
    "service_365": "365便民服务队",
    "bangdaojia": "帮到家社区工作站",
    "volunteer": "志愿者服务队",
    "resident_unit": "驻街道单位",
}

CANTEEN_KINDS = {"community_canteen": "社区食堂", "elder_meal_point": "长者助餐点"}

MEALS = MEAL_NAMES
STATES = STATE_NAMES
# What the audit trail names: the transitions, and the changes that keep the state.
ACTIONS = {**ACTION_NAMES, "note": "备注", "file": "提交", "recategorise": "改类别", "escalate": "超时提醒",
           "contact": "补充联系方式", "block_sender": "屏蔽发送者", "unblock_sender": "解除屏蔽"}
ACTOR_KINDS = {"resident": "居民", "staff": "工作人员", "team": "服务队", "department": "对接部门", "system": "系统",
               "partner": "合作系统"}

# How a 便民纸条 came in (the request's `channel`).
CHANNELS = {"wechat": "微信公众号", "voice": "微信语音", "h5": "网页表单", "staff": "工作人员代提交", "phone": "电话",
            "walk_in": "上门", "grid_visit": "网格走访", "open311": "合作系统"}

__all__ = ["ACTIONS", "CHANNELS", "ACTOR_KINDS", "CANTEEN_KINDS", "CATEGORIES", "FLAGS", "MEALS", "OPEN_STATES", "ROLES",
           "ROLE_SCOPE", "STATES", "TEAM_KINDS", "as_dict"]


def as_dict() -> dict[str, object]:
    """Every vocabulary as `{key: 中文}` maps (what the console shows), and the open states."""
    return {"roles": ROLES, "actor_kinds": ACTOR_KINDS, "team_kinds": TEAM_KINDS, "canteen_kinds": CANTEEN_KINDS,
            "categories": CATEGORIES, "states": STATES, "open_states": list(OPEN_STATES), "meals": MEALS,
            "flags": FLAGS, "actions": ACTIONS, "channels": CHANNELS}
