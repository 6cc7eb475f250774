"""The shared access token: one fetch for many concurrent callers, one refresh per rejected token."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.store.tokens import AccessToken
from chalicelib.wechat.tokens import FreshToken, TokenStore, TokenUnavailable


class CountingFetcher:
    """Stands in for WeChat's stable_token; counts calls and hands out numbered tokens."""

    def __init__(self, delay_s: float = 0.2):
        self.calls: list[tuple[str, bool]] = []
        self._lock = threading.Lock()
        self._delay = delay_s

    def __call__(self, account_id: str, force: bool) -> FreshToken:
        with self._lock:
            self.calls.append((account_id, force))
            number = len(self.calls)
        threading.Event().wait(self._delay)  # WeChat takes a while: the others must wait, not fetch
        return FreshToken(f"token-{number}", 7200)


def race(store: TokenStore, n: int, **kwargs) -> list[str]:
    barrier = threading.Barrier(n)

    def one(_):
        barrier.wait()
        return store.get("xianggang-huayuan", **kwargs)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_twenty_lambdas_at_once_fetch_one_token(moto_server):
    fetch = CountingFetcher()
    tokens = race(TokenStore(fetch), 20)
    assert fetch.calls == [("xianggang-huayuan", False)]
    assert set(tokens) == {"token-1"}


def test_a_rejected_token_is_refreshed_once_for_everybody(moto_server):
    fetch = CountingFetcher()
    store = TokenStore(fetch)
    bad = store.get("xianggang-huayuan")
    tokens = race(store, 20, rejected=bad)
    assert fetch.calls == [("xianggang-huayuan", False), ("xianggang-huayuan", True)]
    assert set(tokens) == {"token-2"}
    assert store.get("xianggang-huayuan", rejected=bad) == "token-2"  # a late report of the old token


def test_expiry_is_checked_in_code(aws):
    now = [datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)]
    fetch = CountingFetcher(delay_s=0)
    store = TokenStore(fetch, clock=lambda: now[0])
    assert store.get("a") == "token-1"
    now[0] += timedelta(seconds=7200 - 121)
    assert store.get("a") == "token-1"
    now[0] += timedelta(seconds=2)  # inside the refresh margin: a new one, though the item is still there
    assert store.get("a") == "token-2"
    assert AccessToken.get("a").token == "token-2"


def test_a_stuck_refresher_does_not_block_forever(aws):
    now = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)
    AccessToken("a", lease_owner="someone-else", lease_until=now + timedelta(seconds=10)).save()
    store = TokenStore(CountingFetcher(delay_s=0), clock=lambda: now, sleep=lambda s: None, wait_s=0.5)
    with pytest.raises(TokenUnavailable):
        store.get("a")
    later = TokenStore(CountingFetcher(delay_s=0), clock=lambda: now + timedelta(seconds=11))
    assert later.get("a") == "token-1"  # the stale lease is taken over


def test_a_failed_fetch_releases_the_lease(aws):
    def failing(account_id, force):
        raise RuntimeError("WeChat is down")

    with pytest.raises(RuntimeError):
        TokenStore(failing).get("a")
    assert AccessToken.get("a").lease_owner is None
    assert TokenStore(CountingFetcher(delay_s=0)).get("a") == "token-1"
