"""便民纸条 (residents' help requests): categories, routing, time limits and states — all as data.

A district has a default `Policy` (classification keywords, routing, expected hours per category); a
community may override any part of it. States and transitions are a table; every transition is
planned here (pure) and written by the store as one transaction with its audit event and notice.
"""
from __future__ import annotations

from dataclasses import field
from datetime import datetime, timedelta
from typing import Any, Mapping

from chalicelib.domain.bulletin import MonthTally, tally_transition
from chalicelib.domain.canteen import capacity_counter
from chalicelib.domain.dates import local_date
from chalicelib.domain.errors import ConflictError, DomainError
from chalicelib.domain.effects import Notify
from chalicelib.domain.patterns import lazy_re
from chalicelib.domain.records import record

_NOT_WORDS = lazy_re(r"[\W_]+")  # what a guard key leaves out of a need's text

# ---- categories, and the district default policy -------------------------------------------------

CATEGORIES = {
    "meal_delivery": "送餐",
    "repairs": "维修",
    "cleaning": "保洁",
    "care_visit": "探访照料",
    "consultation": "政策咨询",
    "legal": "法律服务",
    "consumer_complaint": "消费维权",
    "psychological": "心理疏导",
    "suggestion": "意见建议",
    "other": "其他",
}


@record
class Route:
    """Where a category goes: a kind of the community's teams, or a partner department."""

    team_kind: str | None = None
    department_id: str | None = None


@record
class Policy:
    keywords: Mapping[str, tuple[str, ...]]  # category -> words; the category with most hits wins
    routes: Mapping[str, Route]
    hours: Mapping[str, int]  # expected hours to done, per category

    def merged(self, override: Mapping[str, Any] | None) -> "Policy":
        """This policy with a community's overrides (any of keywords / routes / hours, per category)."""
        if not override:
            return self
        return Policy(
            keywords={**self.keywords, **{k: tuple(v) for k, v in override.get("keywords", {}).items()}},
            routes={**self.routes, **{k: Route(**v) for k, v in override.get("routes", {}).items()}},
            hours={**self.hours, **{k: int(v) for k, v in override.get("hours", {}).items()}},
        )


DEFAULT_POLICY = Policy(
    keywords={
        "meal_delivery": ("送饭", "送餐", "订餐", "订饭", "份饭", "饭菜", "食堂", "午饭", "晚饭", "午餐", "晚餐", "配餐",
                          "助餐", "吃饭"),
        "repairs": ("维修", "修理", "修一下", "坏了", "漏水", "堵了", "不亮", "停电", "水管", "门锁", "电路", "来修"),
        "cleaning": ("打扫", "保洁", "清扫", "卫生", "垃圾", "清理"),
        "care_visit": ("看望", "探访", "陪护", "陪同", "独居", "照顾", "陪诊", "身体不便", "行动不便"),
        "consultation": ("咨询", "请问", "怎么办理", "如何办理", "社保", "医保", "证明", "政策"),
        "legal": ("法律", "律师", "纠纷", "离婚", "继承", "合同", "起诉", "法官", "调解"),
        "consumer_complaint": ("消费", "退款", "假货", "维权", "欺诈", "商家", "投诉商"),
        "psychological": ("心理", "焦虑", "抑郁", "失眠", "压力", "想不开", "情绪"),
        "suggestion": ("建议", "意见", "希望社区"),
    },
    routes={
        "meal_delivery": Route(team_kind="service_365"),
        "repairs": Route(team_kind="professional"),
        "cleaning": Route(team_kind="service_station"),
        "care_visit": Route(team_kind="bangdaojia"),
        "consultation": Route(team_kind="comprehensive"),
        "legal": Route(department_id="judge-zhangyu"),
        "consumer_complaint": Route(department_id="consumer-rights"),
        "psychological": Route(department_id="mingdongxin-counselling"),
        "suggestion": Route(team_kind="comprehensive"),
        "other": Route(team_kind="comprehensive"),
    },
    hours={"meal_delivery": 12, "repairs": 48, "cleaning": 48, "care_visit": 24, "consultation": 24, "legal": 72,
           "consumer_complaint": 72, "psychological": 48, "suggestion": 168, "other": 48},
)


class UnknownCategory(DomainError):
    code = "unknown_category"


def classify(text: str, policy: Policy) -> str:
    """The category whose keywords the (normalised) text hits most; ties go to the earlier category."""
    best, best_hits = "other", 0
    for category in CATEGORIES:
        hits = sum(1 for word in policy.keywords.get(category, ()) if word and word in text)
        if hits > best_hits:
            best, best_hits = category, hits
    return best


def check_category(category: str) -> str:
    if category not in CATEGORIES:
        raise UnknownCategory(f"未知的类别：{category}（可选：{'、'.join(CATEGORIES)}）")
    return category


# ---- states and transitions (data) ---------------------------------------------------------------

STATE_NAMES = {
    "submitted": "已提交",
    "accepted": "已受理",
    "assigned": "已派单",
    "in_progress": "办理中",
    "done": "已办结",
    "closed": "已评价",
    "cancelled": "已取消",
    "rejected": "未受理",
    "reopened": "重新办理",
}
OPEN_STATES = ("submitted", "accepted", "assigned", "in_progress", "reopened")

# (state, action) -> next state. Who may take an action is decided by chalicelib.auth.scope (staff) and
# RESIDENT_ACTIONS (the resident, in WeChat).
TRANSITIONS: dict[tuple[str, str], str] = {
    ("submitted", "accept"): "accepted",
    ("submitted", "assign"): "assigned",
    ("submitted", "reject"): "rejected",
    ("submitted", "cancel"): "cancelled",
    ("submitted", "start"): "in_progress",  # the team it is routed to takes it up itself
    ("accepted", "assign"): "assigned",
    ("accepted", "reject"): "rejected",
    ("accepted", "cancel"): "cancelled",
    ("accepted", "start"): "in_progress",
    ("assigned", "assign"): "assigned",  # hand to another team
    ("assigned", "start"): "in_progress",
    ("assigned", "complete"): "done",
    ("assigned", "cancel"): "cancelled",
    ("in_progress", "assign"): "assigned",
    ("in_progress", "complete"): "done",
    ("done", "rate"): "closed",
    ("done", "reopen"): "reopened",
    ("rejected", "reopen"): "reopened",
    ("reopened", "accept"): "accepted",
    ("reopened", "assign"): "assigned",
    ("reopened", "reject"): "rejected",
    ("reopened", "start"): "in_progress",
}
ACTION_NAMES = {"accept": "受理", "assign": "派单", "reject": "不予受理", "cancel": "取消", "start": "开始办理",
                "complete": "办结", "rate": "评价", "reopen": "重新办理"}
RESIDENT_ACTIONS = ("cancel", "rate")
RESIDENT_CANCELLABLE = ("submitted", "accepted")


class InvalidTransition(ConflictError):
    """The action is not allowed from the request's state (or lacks what it needs)."""

    code = "invalid_transition"


@record
class RequestView:
    """What the rules need to know of a stored request."""

    number: str
    state: str
    category: str
    community_id: str | None
    district_id: str
    account_id: str
    openid: str | None
    team_id: str | None = None
    department_id: str | None = None
    created_at: datetime | None = None
    guard_key: str | None = None
    delivery_key: str | None = None  # meal delivery: canteen#day#meal
    portions: int = 0
    escalation: int = 0  # 0: not escalated; 1: to the director; 2: to the sub-district
    flags: tuple[str, ...] = ()  # domain.filing.FLAGS staff must act on
    due_at: datetime | None = None


@record
class Actor:
    kind: str  # resident, staff, team, department, system, partner
    id: str
    role: str | None = None


@record
class TransitionPlan:
    number: str
    action: str
    from_state: str
    to_state: str
    actor: Actor
    at: datetime
    note: str = ""
    set_fields: dict[str, Any] = field(default_factory=dict)  # team_id, department_id, rating, …
    notice: Notify | None = None  # what the resident hears (through the outbox)
    community_id: str | None = None
    district_id: str = ""
    guard_key: str | None = None
    release_capacity: tuple[str, int] | None = None  # (counter id, portions freed; negative: taken again)
    expect_escalation: int | None = None  # written only if the request is still at this escalation level
    audit_fields: dict[str, Any] = field(default_factory=dict)  # what the audit event records beyond set_fields
    contact: dict[str, str] = field(default_factory=dict)  # contact details to keep (apart from the request)
    tally: MonthTally | None = None  # what it adds to the community's month counters (the bulletin)
    overdue_delta: int = 0  # +1 when it becomes overdue, -1 when an overdue request leaves the open states
    # (team_id, department_id, category) before the change, for a plan that moves the state or the routing:
    # the store rewrites the list indexes' keys from it (None: neither changes)
    routing: tuple[str | None, str | None, str] | None = None


def plan_transition(request: RequestView, action: str, actor: Actor, at: datetime, note: str = "",
                    team: tuple[str, str] | None = None, department: tuple[str, str] | None = None,
                    rating: int | None = None, reopen_hours: int = 48) -> TransitionPlan:
    """Check the action against the state table and build what must be written and said.

    `team` / `department` are (id, name) for `assign`; `rating` 1-5 for `rate`; `reopen_hours` the
    category's expected hours, the new time limit of a reopened request.
    """
    to_state = TRANSITIONS.get((request.state, action))
    if to_state is None:
        allowed = "、".join(ACTION_NAMES[a] for (s, a) in TRANSITIONS if s == request.state) or "无"
        raise InvalidTransition(f"纸条 {request.number} 当前为“{STATE_NAMES[request.state]}”，不能"
                                f"{ACTION_NAMES.get(action, action)}；可以：{allowed}")
    if actor.kind == "resident":
        if action not in RESIDENT_ACTIONS:
            raise InvalidTransition("居民只能取消或评价自己的纸条")
        if action == "cancel" and request.state not in RESIDENT_CANCELLABLE:
            raise InvalidTransition(f"纸条 {request.number} 已{STATE_NAMES[request.state]}，请联系社区取消")
    set_fields: dict[str, Any] = {}
    if action == "assign":
        if team is None and department is None:
            raise InvalidTransition("派单需要指定服务队或对接部门")
        set_fields = {"team_id": team[0] if team else None, "department_id": department[0] if department else None}
    if action == "rate":
        if rating is None or not 1 <= rating <= 5:
            raise InvalidTransition("评分请用 1 到 5 分")
        set_fields = {"rating": rating, "rating_comment": note[:500]}
    if action == "reject" and not note.strip():
        raise InvalidTransition("不予受理需要写明原因")
    if action == "reopen":  # back on the clock: time limit, escalation and the SLA indexes start again
        due = at + timedelta(hours=reopen_hours)
        set_fields = {"due_at": due, "escalate_at": due, "escalation": 0, "sla_open": request.district_id,
                      "sla_escalate": request.district_id}
    release = None  # (counter, portions): a meal order gives its places back, and takes them again if reopened
    if request.delivery_key and request.portions and to_state in ("cancelled", "rejected"):
        release = (capacity_counter(request.delivery_key), request.portions)
    if request.delivery_key and request.portions and to_state == "reopened":
        release = (capacity_counter(request.delivery_key), -request.portions)
    tally = tally_transition(action, to_state, local_date(at), at, request.created_at, request.due_at,
                             request.portions if request.delivery_key else 0, rating)
    overdue_delta = -1 if (request.escalation > 0 and request.state in OPEN_STATES
                           and to_state not in OPEN_STATES) else 0
    return TransitionPlan(request.number, action, request.state, to_state, actor, at, note[:2000], set_fields,
                          _notice(request, action, note, team or department), request.community_id,
                          request.district_id, request.guard_key, release, tally=tally, overdue_delta=overdue_delta,
                          routing=(request.team_id, request.department_id, request.category))


def _notice(request: RequestView, action: str, note: str, assignee: tuple[str, str] | None) -> Notify | None:
    """What the resident hears, for the transitions that matter to them."""
    if not request.openid:
        return None
    n = request.number
    texts = {
        "accept": f"您的便民纸条 {n} 已受理，社区正在安排。",
        "assign": f"您的便民纸条 {n} 已派给{assignee[1] if assignee else '服务人员'}，他们会尽快与您联系。",
        "complete": f"您的便民纸条 {n} 已办结。满意吗？回复“评价 {n} 5 很满意”（1-5分）告诉我们。",
        "reject": f"您的便民纸条 {n} 暂未受理：{note}。如有疑问请联系社区。",
        "reopen": f"您的便民纸条 {n} 已重新办理，社区会再次安排。",
    }
    body = texts.get(action)
    if body is None:
        return None
    said = note.strip().rstrip("。")
    if said and action in ("accept", "assign", "complete", "reopen"):  # the console says it reaches the resident
        body = body.replace("。", f"。处理说明：{said}。", 1)
    state = STATE_NAMES[TRANSITIONS[(request.state, action)]]
    return Notify(request.account_id, request.openid, "request_update", body,
                  {"number": n, "state": state, "team": assignee[1] if assignee else ""})


# ---- changes that keep the state: notes, re-categorising, escalation ------------------------------
# Each is a TransitionPlan whose from_state and to_state are the same, so that every change of a request
# goes through one writer (`store.request_writes.write_transition`) with its audit event.

MAX_NOTE = 2000


def plan_note(request: RequestView, actor: Actor, at: datetime, note: str) -> TransitionPlan:
    """备注: an internal note on the request's timeline."""
    if not note.strip():
        raise DomainError("备注不能为空", code="empty_note")
    return TransitionPlan(request.number, "note", request.state, request.state, actor, at, note.strip()[:MAX_NOTE],
                          community_id=request.community_id, district_id=request.district_id)


def plan_recategorise(request: RequestView, actor: Actor, at: datetime, category: str, policy: Policy,
                      team: tuple[str, str] | None, note: str = "") -> TransitionPlan:
    """Change the category; a request not yet assigned also takes the new category's route (`team` is the
    community's team of the route's kind, looked up by the caller)."""
    check_category(category)
    set_fields: dict[str, Any] = {"category": category}
    if request.state in ("submitted", "accepted", "reopened"):
        route = policy.routes.get(category) or policy.routes["other"]
        set_fields.update(team_id=team[0] if team else None, department_id=None if team else route.department_id)
    return TransitionPlan(request.number, "recategorise", request.state, request.state, actor, at, note[:MAX_NOTE],
                          set_fields, community_id=request.community_id, district_id=request.district_id,
                          audit_fields={"previous": request.category},
                          routing=(request.team_id, request.department_id, request.category))


def plan_contact(request: RequestView, actor: Actor, at: datetime, contact: dict[str, str]) -> TransitionPlan:
    """An address (or phone) given after filing attaches to the open request and clears 待补地址."""
    kept = {k: v for k, v in contact.items() if k in ("name", "phone", "address") and v}
    flags = [f for f in request.flags if not (f == "needs_address" and kept.get("address"))]
    return TransitionPlan(request.number, "contact", request.state, request.state, actor, at, "居民补充了联系方式",
                          {"flags": flags or None}, community_id=request.community_id,
                          district_id=request.district_id, audit_fields={"contact": sorted(kept)}, contact=kept)


def plan_sender_block(request: RequestView, actor: Actor, at: datetime, blocked: bool, reason: str) -> TransitionPlan:
    """屏蔽发送者: the audit of staff blocking (or unblocking) the sender of this request."""
    if not request.openid:
        raise DomainError("这张纸条不是居民在微信或网页上提交的，没有可屏蔽的发送者", code="no_sender")
    return TransitionPlan(request.number, "block_sender" if blocked else "unblock_sender", request.state,
                          request.state, actor, at, reason[:MAX_NOTE], community_id=request.community_id,
                          district_id=request.district_id, audit_fields={"account_id": request.account_id})


def plan_escalation(request: RequestView, at: datetime, hours: float) -> TransitionPlan | None:
    """超时上报: an overdue request goes up one level (director, then sub-district, half the expected
    time later); None once it has gone all the way. Written only if nobody escalated it meanwhile."""
    level = request.escalation
    if level >= len(ESCALATION_LEVELS):
        return None
    to = ESCALATION_LEVELS[level]
    last = level + 1 >= len(ESCALATION_LEVELS)
    set_fields: dict[str, Any] = {"escalation": level + 1}
    set_fields.update({"sla_escalate": None, "escalate_at": None} if last
                      else {"escalate_at": at + timedelta(hours=max(1.0, hours / 2))})
    return TransitionPlan(request.number, "escalate", request.state, request.state, Actor("system", "sla-sweep"),
                          at, f"超时未办结，已上报{'社区主任' if to == 'director' else '街道'}", set_fields,
                          community_id=request.community_id, district_id=request.district_id,
                          expect_escalation=level, audit_fields={"escalated_to": to, "level": level + 1},
                          tally=tally_transition("escalate", request.state, local_date(at), at, None, None, 0, None,
                                                 escalation_from=level, escalation_to=level + 1),
                          overdue_delta=1 if level == 0 else 0)


# ---- numbers, time limits, duplicates -------------------------------------------------------------

NUMBER = lazy_re(r"^([A-Z]{2,3})-?(\d{8})-?(\d{3,4})$")
DUPLICATE_WINDOW = timedelta(hours=2)


def format_number(prefix: str, day_yyyymmdd: str, sequence: int) -> str:
    """XG-20261127-0042: the community's code, the Shanghai day, the day's sequence."""
    return f"{prefix}-{day_yyyymmdd}-{sequence:04d}"


def parse_number(text: str) -> str | None:
    """A number as a resident may type it (lower case, without dashes) in its canonical form."""
    found = NUMBER.match(text.strip().upper())
    return format_number(found.group(1), found.group(2), int(found.group(3))) if found else None


def due_at(created: datetime, category: str, policy: Policy) -> datetime:
    return created + timedelta(hours=policy.hours.get(category, policy.hours.get("other", 48)))


ESCALATION_LEVELS = ("director", "subdistrict")  # overdue: first the director, then the sub-district


def fingerprint(category: str, text: str, service_day: str | None = None) -> str:
    """What makes two requests of one resident 'the same need': the category and the service day when
    there is one (two meal orders for the same day), else the category and the words themselves."""
    if service_day:
        return f"{category}#{service_day}"
    return f"{category}#" + _NOT_WORDS.sub("", text)[:200]
