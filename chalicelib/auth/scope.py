"""Authorisation in one place: which actions each role may take, and which objects it may see.

Routes never test roles themselves; they call `require(principal, action, obj)`:

* an object out of the principal's scope raises `NotFound`, exactly like a missing one (nothing leaks);
* an action the role may not take on an object it sees raises `Forbidden`.

`obj` is anything with the attributes `community_id`, `team_id`, `department_id` and (optionally)
`district_id`: a 便民纸条, a canteen, a rule set … A missing `district_id` is the deployment's district.
"""
from __future__ import annotations

from typing import Any

from chalicelib.auth.errors import Forbidden, NotFound
from chalicelib.auth.principal import Principal
from chalicelib.cache import ContainerCache
from chalicelib.config import settings
from chalicelib.store.org import Community

# ---- actions, as data ------------------------------------------------------------------------------

ACTIONS = frozenset({
    "request.view",          # see a 便民纸条 and its history
    "request.transition",    # any state change (accept, reject, close, reopen …)
    "request.progress",      # only start / finish the work: to in_progress or done (teams, departments)
    "request.assign",        # hand it to a team or department
    "request.recategorise",  # change its category
    "request.note",          # add an internal note
    "request.file",          # file one on a resident's behalf (phone, walk-in)
    "canteen.edit",          # meal hours, capacity, cut-off
    "rules.edit",            # an account's keyword and menu rules
    "staff.view",            # the staff list of a scope
    "audit.view",            # the audit trail
    "resident.block",        # block / unblock a resident who abuses 便民纸条 (audited)
    # publishing (信息发布): see chalicelib/domain/publishing.py WORKFLOW
    "post.view",             # see posts, the calendar, a post's history
    "post.propose",          # 社区选题: propose a topic
    "post.write",            # write and edit a draft, submit it, withdraw an approved one
    "post.review_first",     # 主任一审
    "post.review_second",    # 街道二审
    "post.policy_edit",      # the district's 三关 word lists, whitelist and checklist
    "matrix.edit",           # the district's alliance matrix (联盟矩阵): district staff only
    "activity.manage",       # community activities: create, sign-up lists, attendance, export
    "suggestion.answer",     # residents' suggestions (意见建议) and consultations (公共政策讨论): read, answer, open
    "menu.edit",             # custom menus of the accounts (district template, community overrides)
    "staff.manage",          # create, deactivate, reset, unlock, change the role of staff (MANAGED_ROLES)
    # the monthly bulletin (月通报) and the district overview
    "bulletin.view",         # see the bulletin (rows of the communities in scope) and the deduction rules
    "bulletin.issue",        # build, issue and correct the bulletin: district staff only
    "bulletin.rules_edit",   # the deduction rules and the composite index formula: district staff only
    "bulletin.appeal",       # 申诉: a sub-district appeals a deduction of one of its communities
    "bulletin.decide",       # the district decides an appeal
    "overview.view",         # the overview of every community in scope (district, sub-district)
})

POST_WRITER = frozenset({"post.view", "post.propose", "post.write"})

REQUEST_ACTIONS = frozenset(a for a in ACTIONS if a.startswith("request."))

# Who may do what. Edit here, nowhere else.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "social_worker":        REQUEST_ACTIONS | POST_WRITER | {"canteen.edit", "rules.edit", "audit.view",
                                                             "resident.block", "activity.manage"},
    "director":             REQUEST_ACTIONS | POST_WRITER | {"post.review_first", "canteen.edit", "rules.edit",
                                                             "audit.view", "staff.view", "resident.block",
                                                             "activity.manage", "suggestion.answer", "menu.edit",
                                                             "staff.manage", "bulletin.view"},
    "subdistrict_reviewer": frozenset({"request.view", "request.note", "audit.view", "post.view",
                                       "post.review_second", "bulletin.view", "bulletin.appeal", "overview.view"}),
    "district_admin":       ACTIONS,
    "team_member":          frozenset({"request.view", "request.progress", "request.note"}),
    "department":           frozenset({"request.view", "request.progress", "request.note"}),
}

# States a request may be moved to with "request.progress" alone; any other needs "request.transition".
PROGRESS_STATES = frozenset({"in_progress", "done"})


def transition_action(to_state: str) -> str:
    """The action that moving a request to `to_state` needs."""
    return "request.progress" if to_state in PROGRESS_STATES else "request.transition"


def can(principal: Principal, action: str) -> bool:
    """Whether the principal's role may take `action` at all (scope aside)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")  # a typo in a route must not silently deny or allow
    return action in ROLE_ACTIONS.get(principal.role, frozenset())


# ---- scope -----------------------------------------------------------------------------------------

SUBDISTRICT_CACHE = ContainerCache(300)  # communities of a sub-district: directory data, 5 minutes


def _communities_of_subdistrict(subdistrict_id: str) -> frozenset[str]:
    def load() -> frozenset[str]:

        return frozenset(c.community_id for c in Community.by_subdistrict.query(subdistrict_id))
    return SUBDISTRICT_CACHE.get(subdistrict_id, load)


def communities_in_scope(principal: Principal) -> set[str] | None:
    """The communities whose data the principal sees; None means every community of its district.

    Teams and departments see by assignment, not by community: an empty set.
    """
    role = principal.role
    if role == "district_admin":
        return None
    if role in ("social_worker", "director"):
        return {principal.community_id} if principal.community_id else set()
    if role == "subdistrict_reviewer":
        return set(_communities_of_subdistrict(principal.subdistrict_id)) if principal.subdistrict_id else set()
    return set()


def _district_of(obj: Any) -> str:

    return getattr(obj, "district_id", None) or settings().district_id


def can_see_request(principal: Principal, obj: Any) -> bool:
    """Whether the object (a request, or anything with the same scope attributes) is in scope."""
    if _district_of(obj) != principal.district_id:
        return False
    role = principal.role
    community = getattr(obj, "community_id", None)
    if role == "district_admin":
        return True
    if role in ("social_worker", "director"):
        return community is not None and community == principal.community_id
    if role == "subdistrict_reviewer":
        return community is not None and community in communities_in_scope(principal)
    if role == "team_member":
        team = getattr(obj, "team_id", None)
        return team is not None and team == principal.team_id
    if role == "department":
        department = getattr(obj, "department_id", None)
        return department is not None and department == principal.department_id
    return False


def require(principal: Principal, action: str, request_like: Any = None) -> None:
    """Allow, or raise: `NotFound` when `request_like` is out of scope (checked first, so an object the
    principal cannot see never answers 403), `Forbidden` when the role may not take the action."""
    allowed = can(principal, action)
    if request_like is not None and not can_see_request(principal, request_like):
        raise NotFound()
    if not allowed:
        raise Forbidden()


# ---- people: whom a role manages (人员管理) ----------------------------------------------------------

# The roles a manager may create, change to, and act on; always within the manager's own scope (a director:
# their community and its service teams; a district admin: the district). Nobody manages themselves.
MANAGED_ROLES: dict[str, frozenset[str]] = {
    "director": frozenset({"social_worker", "team_member"}),
    "district_admin": frozenset({"social_worker", "director", "subdistrict_reviewer", "district_admin",
                                 "team_member", "department"}),
}


def can_manage(principal: Principal, target: Any) -> bool:
    """Whether the principal may manage `target` (a staff user, or the account about to be made: anything with
    `username`, `role`, `district_id`, `community_id`)."""
    if not can(principal, "staff.manage") or getattr(target, "username", None) == principal.username:
        return False
    if getattr(target, "role", None) not in MANAGED_ROLES.get(principal.role, frozenset()):
        return False
    if getattr(target, "district_id", None) != principal.district_id:
        return False
    if principal.role == "district_admin":
        return True
    return getattr(target, "community_id", None) is not None and target.community_id == principal.community_id


def require_manage(principal: Principal, target: Any) -> None:
    """Allow, or raise: `NotFound` for an account outside the principal's scope (alike a missing one),
    `Forbidden` for one in scope it may not manage (itself, or a role above what it may give)."""
    if principal.role != "district_admin" and not (
            getattr(target, "community_id", None) and target.community_id == principal.community_id):
        raise NotFound()
    if getattr(target, "district_id", None) != principal.district_id:
        raise NotFound()
    if not can_manage(principal, target):
        raise Forbidden()
