"""The router's ports over DynamoDB, and the account facts the gateway needs, cached per container."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.dates import local_date
from chalicelib.domain.requests import OPEN_STATES, format_number
from chalicelib.domain.router import AccountView
from chalicelib.domain.rules import DEFAULT_RULES, Rule, rules_from_json
from chalicelib.store.base import ContainerCache

ACCOUNT_CACHE = ContainerCache(300)  # account facts, directory
RULES_CACHE = ContainerCache(60)  # rules staff edit: visible within a minute


@dataclass(frozen=True)
class GatewayAccount:
    view: AccountView
    appid: str
    original_id: str
    encryption_mode: str


def gateway_account(account_id: str) -> GatewayAccount | None:
    """The account behind /wechat/{account_id}, or None when there is no such account."""
    return ACCOUNT_CACHE.get(("account", account_id), lambda: _load_account(account_id))


def _load_account(account_id: str) -> GatewayAccount | None:
    from chalicelib.store.accounts import Account
    from chalicelib.store.org import Community, District

    try:
        account = Account.get(account_id)
    except Account.DoesNotExist:
        return None
    if account.community_id:
        prefix = Community.get(account.community_id).code
    else:
        prefix = District.get(account.district_id).code
    view = AccountView(account.account_id, account.name, account.account_type, account.district_id,
                       account.community_id, prefix)
    return GatewayAccount(view, account.appid, account.original_id, account.encryption_mode)


def account_rules(account_id: str) -> tuple[Rule, ...]:
    """The account's own rules, or the defaults."""
    def load() -> tuple[Rule, ...]:
        from chalicelib.store.rules import RuleSet

        try:
            return rules_from_json(RuleSet.get(account_id).rules)
        except RuleSet.DoesNotExist:
            return DEFAULT_RULES
    return RULES_CACHE.get(("rules", account_id), load)


class DynamoPorts:
    def directory(self, district_id: str) -> list[AccountView]:
        def load() -> list[AccountView]:
            from chalicelib.store.accounts import Account

            return [AccountView(a.account_id, a.name, a.account_type, a.district_id, a.community_id, "")
                    for a in Account.by_district.query(district_id)]
        return ACCOUNT_CACHE.get(("directory", district_id), load)

    def next_request_number(self, prefix: str, now: datetime) -> str:
        from chalicelib.store.counters import next_value

        day = local_date(now).strftime("%Y%m%d")
        sequence = next_value(f"request#{prefix}#{day}", expires_at=now + timedelta(days=3))
        return format_number(prefix, day, sequence)

    def open_requests(self, account_id: str, openid: str) -> list[dict]:
        from chalicelib.store.requests import HelpRequest

        found = HelpRequest.by_resident.query(f"{account_id}#{openid}", scan_index_forward=False, limit=50)
        return [{"number": r.number, "state": r.state, "text": r.text, "created_at": r.created_at}
                for r in found if r.state in OPEN_STATES]
