"""The router's ports over DynamoDB, and the account facts the gateway needs, cached per container."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from chalicelib import clock
from chalicelib.cache import ContainerCache
from chalicelib.config import settings
from chalicelib.domain.canteen import CanteenView, Household, serving_canteen
from chalicelib.domain.dates import local_date
from chalicelib.domain.limits import DEFAULT_RESIDENT_LIMITS, ResidentLimits
from chalicelib.domain.patterns import lazy_re
from chalicelib.domain.ports import AccountView, GatewayAccount
from chalicelib.domain.requests import DEFAULT_POLICY, OPEN_STATES, Policy, RequestView, format_number
from chalicelib.domain.rules import DEFAULT_RULES, Rule, rules_from_json
from chalicelib.store.accounts import Account
from chalicelib.store.activities import ActivityReads
from chalicelib.store.alliance_settings import read as read_setting
from chalicelib.store.base import batch_get_across
from chalicelib.store.canteens import Canteen, Menu
from chalicelib.store.consultations import ConsultationReads
from chalicelib.store.counters import claim_value, next_value
from chalicelib.store.matrix import load_head, load_shard
from chalicelib.store.org import Community, Department, District
from chalicelib.store.policies import RequestPolicy
from chalicelib.store.requests import HelpRequest
from chalicelib.store.residents import Conversation, Profile, Resident
from chalicelib.store.rules import RuleSet
from chalicelib.store.staff_store import StaffReads
from chalicelib.store.suggestions import SuggestionReads
from chalicelib.store.teams import Team

ACCOUNT_CACHE = ContainerCache(300)  # account facts, directory (unknown ids: ContainerCache's brief miss)
RULES_CACHE = ContainerCache(60)  # rules and policies staff edit: visible within a minute
_ID = lazy_re(r"[A-Za-z0-9_.-]{1,64}")  # what an account or canteen id can look like


def plausible_id(value: str) -> bool:
    """Could be an id: anything else is unknown without a read, and never enters a cache."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def gateway_account(account_id: str) -> GatewayAccount | None:
    """The account behind /wechat/{account_id}, or None when there is no such account."""
    if not plausible_id(account_id):
        return None
    return ACCOUNT_CACHE.get(("account", account_id), lambda: _load_account(account_id))


def _load_account(account_id: str) -> GatewayAccount | None:
    """The account, its request-number prefix and its rules in one BatchGetItem on a cold container:
    a community account's id is its community's id and the deployment's district is known, so every key
    is known before the first read (the district's item and rules ride along). The rules go to their own
    cache. An account of another district, or whose community has another id, reads what it lacks."""
    district_id = settings().district_id
    found = batch_get_across({Account: [account_id], Community: [account_id], District: [district_id],
                              RuleSet: [account_id, f"district#{district_id}"]})
    if not found[Account]:
        return None
    return _assemble(found[Account][0], {c.community_id: c for c in found[Community]},
                     {d.district_id: d for d in found[District]}, {r.account_id: r.rules for r in found[RuleSet]})


def _assemble(account: Account, communities: dict, districts: dict, rule_sets: dict[str, str]) -> GatewayAccount:
    """The account as the gateway sees it, from its items as read (a community or district the read did
    not bring is read now); its rules (from `rule_sets`, when the account is of this deployment's district)
    and its community's canteen go to their caches."""
    district_id = settings().district_id
    if account.community_id:
        community = communities.get(account.community_id) or Community.get(account.community_id)
        prefix = community.code
        if community.canteen_id is not None:  # a menu question or a meal order needs no lookup of it
            ACCOUNT_CACHE.put(("serving_canteen", community.community_id), community.canteen_id)
    else:
        prefix = (districts.get(account.district_id) or District.get(account.district_id)).code
    if account.district_id == district_id:
        try:
            rules = _first_rules([account.account_id, f"district#{district_id}"], rule_sets)
        except (TypeError, ValueError):
            pass  # stored rules that do not parse: `account_rules` reads them again and fails as it always did
        else:
            RULES_CACHE.get(("rules", account.account_id), lambda: rules)
    view = AccountView(account.account_id, account.name, account.account_type, account.district_id,
                       account.community_id, prefix)
    return GatewayAccount(view, account.appid, account.original_id, account.encryption_mode)


_GATEWAY_FIELDS = ("account_id", "name", "account_type", "district_id", "community_id", "appid", "original_id",
                   "encryption_mode")  # what `_assemble` reads of an account
PRELOADED_ACCOUNTS = 98  # a district up to this many accounts is read whole at init (one BatchGetItem of rules)


def preload_district(district_id: str) -> int:
    """Lambda's init phase (`bootstrap.warm_up`): a small district's accounts, with their communities
    (prefixes, canteens), the district and every account's rules, read at once and cached as a cold
    callback's own read would have cached each (预读本区): two queries and one BatchGetItem for all of
    Shinan's 66, where each account's first callback in each container (and every five minutes after)
    read its own. A district of more than PRELOADED_ACCOUNTS is left to those per-account reads (the
    first page read shows it); how many accounts were cached."""
    accounts = list(Account.by_district.query(district_id, limit=PRELOADED_ACCOUNTS + 1,
                                              attributes_to_get=list(_GATEWAY_FIELDS)))
    if not accounts or len(accounts) > PRELOADED_ACCOUNTS:
        return 0
    communities = {c.community_id: c for c in Community.by_district.query(
        district_id, attributes_to_get=["community_id", "code", "canteen_id"])}
    found = batch_get_across({District: [district_id],
                              RuleSet: [a.account_id for a in accounts] + [f"district#{district_id}"]})
    districts = {d.district_id: d for d in found[District]}
    rule_sets = {r.account_id: r.rules for r in found[RuleSet]}
    for account in accounts:
        ACCOUNT_CACHE.put(("account", account.account_id),
                          _assemble(account, communities, districts, rule_sets))
    return len(accounts)


def community_account(community_id: str) -> AccountView | None:
    """The account view of a community's own account (its id is the community's id)."""
    account = gateway_account(community_id)
    return account.view if account and account.view.community_id == community_id else None


def community_grids(community_id: str) -> tuple[str, ...]:
    """The community's grids (网格), cached with the directory."""
    def load() -> tuple[str, ...]:

        try:
            return tuple(Community.get(community_id).grids or ())
        except Community.DoesNotExist:
            return ()
    return ACCOUNT_CACHE.get(("grids", community_id), load)


def account_rules(account_id: str) -> tuple[Rule, ...]:
    """The account's own rules, else the district's defaults as staff edited them, else `DEFAULT_RULES`
    (one BatchGet, cached with the rules' minute)."""
    def load() -> tuple[Rule, ...]:
        account = gateway_account(account_id)
        keys = [account_id] + ([f"district#{account.view.district_id}"] if account else [])
        return _first_rules(keys, {r.account_id: r.rules for r in RuleSet.batch_get(keys)})
    return RULES_CACHE.get(("rules", account_id), load)


def _first_rules(keys: list[str], found: dict[str, str]) -> tuple[Rule, ...]:
    """The rules stored under the first of `keys` that has any (the account's, then its district's), else
    `DEFAULT_RULES`."""
    for key in keys:
        if key in found:
            return rules_from_json(found[key])
    return DEFAULT_RULES


class DynamoPorts(ActivityReads, SuggestionReads, ConsultationReads, StaffReads):
    def account(self, account_id: str) -> GatewayAccount | None:
        return gateway_account(account_id)

    def rules(self, account_id: str) -> tuple[Rule, ...]:
        return account_rules(account_id)

    def preload_district(self, district_id: str) -> int:
        return preload_district(district_id)

    def community_account(self, community_id: str) -> AccountView | None:
        return community_account(community_id)

    def community_grids(self, community_id: str) -> tuple[str, ...]:
        return community_grids(community_id)

    def resident_limits(self, district_id: str) -> ResidentLimits:
        """The district's 便民纸条 limits per sender (`"resident_limits"` in its request policy item), else
        the defaults; cached like the policy itself."""
        def load() -> ResidentLimits:
            try:
                data = json.loads(RequestPolicy.get(f"district#{district_id}").policy)
            except RequestPolicy.DoesNotExist:
                return DEFAULT_RESIDENT_LIMITS
            return ResidentLimits.from_policy(data.get("resident_limits") if isinstance(data, dict) else None)
        return RULES_CACHE.get(("resident_limits", district_id), load)

    def account_templates(self, account_id: str) -> str | None:
        """The account's notification templates (JSON: purpose -> {kind, template_id, fields})."""
        return ACCOUNT_CACHE.get(("account_facts", account_id), lambda: Account.get(account_id)).notify_templates

    def directory(self, district_id: str) -> list[AccountView]:
        def load() -> list[AccountView]:

            return [AccountView(a.account_id, a.name, a.account_type, a.district_id, a.community_id, "")
                    for a in Account.by_district.query(district_id)]
        return ACCOUNT_CACHE.get(("directory", district_id), load)

    def matrix(self, district_id: str, query: str | None = None):
        """The district's alliance matrix as far as `query` needs it: its head, and for a community's name
        one shard; each cached a minute (edits reach warm copies)."""
        head = RULES_CACHE.get(("matrix", district_id), lambda: load_head(district_id))
        generation = head.generation
        return head.answering(query, lambda gram: RULES_CACHE.get(
            ("matrix_shard", district_id, generation, gram), lambda: load_shard(district_id, generation, gram)))

    def alliance_links(self, district_id: str) -> dict | None:
        """The district's convenience and partner links as staff set them (None: the defaults), cached."""
        return RULES_CACHE.get(("links", district_id), lambda: read_setting(f"links#district#{district_id}"))

    def next_request_number(self, prefix: str, now: datetime, claim: str | None = None) -> str:
        day = local_date(now).strftime("%Y%m%d")
        counter_id, expires = f"request#{prefix}#{day}", now + timedelta(days=3)
        sequence = claim_value(counter_id, claim, expires) if claim else next_value(counter_id, expires_at=expires)
        return format_number(prefix, day, sequence)

    def open_requests(self, account_id: str, openid: str) -> list[dict]:

        found = HelpRequest.by_resident.query(f"{account_id}#{openid}", scan_index_forward=False, limit=50)
        return [{"number": r.number, "state": r.state, "text": r.text, "created_at": r.created_at}
                for r in found if r.state in OPEN_STATES]

    def policy(self, district_id: str, community_id: str | None) -> Policy:
        """The district's request policy with the community's overrides (cached a minute)."""
        def load() -> Policy:


            keys = [f"district#{district_id}"] + ([f"community#{community_id}"] if community_id else [])
            found = {p.scope_key: json.loads(p.policy) for p in RequestPolicy.batch_get(keys)}
            policy = DEFAULT_POLICY.merged(found.get(keys[0]))
            return policy.merged(found.get(keys[1])) if len(keys) > 1 else policy
        return RULES_CACHE.get(("policy", district_id, community_id), load)

    def teams(self, community_id: str) -> dict[str, tuple[str, str]]:
        """The community's teams: team_id -> (kind, name), cached."""
        def load() -> dict[str, tuple[str, str]]:

            return {t.team_id: (t.kind, t.name) for t in Team.query(community_id)}
        return ACCOUNT_CACHE.get(("teams", community_id), load)

    def team_of_kind(self, community_id: str, kind: str) -> tuple[str, str] | None:
        for team_id, (team_kind, name) in sorted(self.teams(community_id).items()):
            if team_kind == kind:
                return team_id, name
        return None

    def departments(self, district_id: str) -> dict[str, str]:
        def load() -> dict[str, str]:

            return {d.department_id: d.name for d in Department.query(district_id)}
        return ACCOUNT_CACHE.get(("departments", district_id), load)

    def team_name(self, district_id: str, community_id: str | None, team_id: str | None,
                  department_id: str | None) -> str | None:
        """The name of whoever a request is routed to: a team of its community, or a department."""
        if team_id and community_id:
            hit = self.teams(community_id).get(team_id)
            return hit[1] if hit else None
        if department_id:
            return self.departments(district_id).get(department_id)
        return None

    def request(self, number: str) -> RequestView | None:

        try:
            r = HelpRequest.get(number)
        except HelpRequest.DoesNotExist:
            return None
        return request_view(r)


    def canteen_for(self, community_id: str):
        """The community's canteen that delivers: a community canteen first, else an elder meal point
        (`domain.canteen.serving_canteen`). Where the community's item said which (a cold callback read
        it with the account), the canteen comes in one BatchGetItem with its menus of MENU_DAYS_READ days
        from today (what residents ask about and order for), or not at all when it has none; otherwise
        the community's canteens are read from the `by_community` index."""
        def load():
            pointer = ACCOUNT_CACHE.peek(("serving_canteen", community_id))
            if pointer == NO_CANTEEN:
                return None
            if pointer:
                canteen = _canteen_with_menus(pointer)
                if canteen is not None:
                    return canteen
            found = {c.canteen_id: c for c in Canteen.by_community.query(community_id)}
            chosen = serving_canteen((c.canteen_id, c.kind) for c in found.values())
            return _canteen_view(found[chosen]) if chosen else None
        return ACCOUNT_CACHE.get(("canteen_for", community_id), load)

    def menu(self, canteen_id: str, day):
        """The published menu of a day (meals dict), cached a minute."""
        def load():
            try:
                return _published_meals(Menu.get(canteen_id, day.isoformat()))
            except Menu.DoesNotExist:
                return None
        return RULES_CACHE.get(("menu", canteen_id, day.isoformat()), load)

    def household(self, account_id: str, openid: str) -> Household | None:

        try:
            resident = Resident.get(account_id, openid)
        except Resident.DoesNotExist:
            return None
        if not resident.profile_id:
            return None
        try:
            p = Profile.get(resident.profile_id)
        except Profile.DoesNotExist:
            return None
        return Household(p.profile_id, p.name, p.address, p.phone, p.grid,
                         int(p.household_size) if p.household_size else None, p.mobility, p.dietary_notes,
                         resident.relation)

    def conversation(self, account_id: str, openid: str, now: datetime):
        """The open question asked of the resident, or None (expired ones count as none)."""


        try:
            c = Conversation.get(f"{account_id}#{openid}")
        except Conversation.DoesNotExist:
            return None
        if c.expires_at <= now:
            return None
        return {"awaiting": c.awaiting, "pending": json.loads(c.pending)}


def request_view(r) -> RequestView:

    portions = int(json.loads(r.details or "{}").get("portions", 0)) if r.delivery_key else 0
    return RequestView(r.number, r.state, r.category, r.community_id, r.district_id, r.account_id, r.openid,
                       r.team_id, r.department_id, r.created_at, r.guard_key, r.delivery_key, portions,
                       int(r.escalation or 0), tuple(r.flags or ()), r.due_at)


MENU_DAYS_READ = 3  # today, tomorrow and the day after (今天、明天、后天): read with the canteen
NO_CANTEEN = ""  # `Community.canteen_id` of a community without a canteen


def _published_meals(menu: Menu) -> dict | None:
    return json.loads(menu.meals) if menu.published else None


def _canteen_with_menus(canteen_id: str):
    """The canteen and its menus of the next MENU_DAYS_READ days in one BatchGetItem; the menus go to the
    menu cache (an unpublished or missing one as None). None when there is no such canteen."""
    today = local_date(clock.now())
    days = [(today + timedelta(days=n)).isoformat() for n in range(MENU_DAYS_READ)]
    found = batch_get_across({Canteen: [canteen_id], Menu: [(canteen_id, day) for day in days]})
    if not found[Canteen]:
        return None
    menus = {m.day: m for m in found[Menu]}
    for day in days:
        RULES_CACHE.put(("menu", canteen_id, day), _published_meals(menus[day]) if day in menus else None)
    return _canteen_view(found[Canteen][0])


def _canteen_view(c):


    meals = json.loads(c.meals or "{}")
    return CanteenView(c.canteen_id, c.name, c.community_id, c.order_cutoff,
                       {k: int(m.get("delivery_capacity", 0)) for k, m in meals.items()},
                       {k: (m["opens"], m["closes"]) for k, m in meals.items()}, int(c.elder_subsidy_fen or 0))


def canteen_view(canteen_id: str):
    if not plausible_id(canteen_id):
        return None

    def load():

        try:
            return _canteen_view(Canteen.get(canteen_id))
        except Canteen.DoesNotExist:
            return None
    return ACCOUNT_CACHE.get(("canteen", canteen_id), load)
