"""WeChat's side of a callback, as the simulator plays it: sign and (per account) encrypt with the tests'
driver (tests/wechat_driver.py, wechatpy's own crypto), POST to the platform, open the reply — and
WeChat's delivery behaviour: an answer slower than 5 s is given up and the message delivered again
(three tries at most), some messages are delivered twice or three times anyway, some copies at the same
moment. Every copy keeps the message's MsgId (or FromUserName + CreateTime for an event) and gets a
fresh timestamp and nonce, as WeChat's retries do.
"""
from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from chalicelib.clock import read_local_clock_file
from local.simulate.district import Intent
from tests.wechat_driver import WeChat

NUMBER = re.compile(r"[A-Z]{2,3}-\d{8}-\d{3,4}")
HOLDING = "系统正忙"  # the holding reply of a callback parked on the inbound queue
WECHAT_TIMEOUT_S = 5.0
SLOW_PATIENCE_S = 0.05
TRIES = 3


class _Answer:
    def __init__(self, status: int, body: bytes):
        self.status_code = status
        self.body = body


class Http:
    """The driver's `http.post(path, body=, headers=)` over real HTTP, with WeChat's 5-second patience."""

    def __init__(self, base: str):
        self.base = base
        self.local = threading.local()

    def session(self) -> requests.Session:
        if not hasattr(self.local, "s"):
            self.local.s = requests.Session()
            self.local.s.trust_env = False
        return self.local.s

    def post(self, path: str, body: bytes, headers: dict) -> _Answer:
        patience = getattr(self.local, "patience", None) or WECHAT_TIMEOUT_S
        answer = self.session().post(self.base + path, data=body, headers=headers, timeout=patience)
        return _Answer(answer.status_code, answer.content)


def platform_now(clock_file: str) -> float:
    found = read_local_clock_file(clock_file)
    if not found:
        return time.time()
    frozen, offset = found
    return frozen.timestamp() if frozen else time.time() + offset


class Deliverer:
    def __init__(self, platform_url: str, emulator_url: str, clock_file: str, seed):
        self.http = Http(platform_url)
        self.emulator_url = emulator_url
        self.clock_file = clock_file
        self.seed = seed
        self.accounts: dict[str, WeChat] = {}
        self.lock = threading.Lock()
        self.msg_ids = iter(range(7_000_000_000, 8_000_000_000))
        self.latencies: list[float] = []
        self.deliveries = 0
        self.failures: dict[str, int] = {}

    def wechat(self, account_id: str) -> WeChat:
        with self.lock:
            if account_id not in self.accounts:
                self.accounts[account_id] = WeChat(self.http, account_id, self.seed)
            return self.accounts[account_id]

    def interaction(self, account_id: str, openid: str) -> None:
        """WeChat knows the resident wrote (the 48-hour customer-service window opens)."""
        s = self.http.session()
        s.post(self.emulator_url + "/__emulator/interactions", json={"account_id": account_id, "openid": openid},
               timeout=10).raise_for_status()

    def fields(self, wx: WeChat, intent: Intent, created: int) -> dict:
        openid = intent.resident.openid
        if intent.event:
            return wx.fields(openid, "event", created=created, Event=intent.event)
        with self.lock:
            msg_id = next(self.msg_ids)
        if intent.voice:
            return wx.fields(openid, "voice", created=created, MediaId=f"sim-voice-{intent.id}", Format="amr",
                             Recognition=intent.text, MsgId=msg_id)
        return wx.fields(openid, "text", created=created, Content=intent.text, MsgId=msg_id)

    def copy(self, wx: WeChat, fields: dict, intent: Intent, patience: float | None = None) -> None:
        started = time.perf_counter()
        self.http.local.patience = patience
        try:
            answer = wx.deliver(fields, timestamp=int(platform_now(self.clock_file)))
            status, text = answer.status, answer.text
            if status == 200 and answer.xml and answer.xml.get("MsgType") == "news":
                text = answer.xml.get("Content") or "(news)"
        except requests.Timeout:
            status, text = 0, None
            kind = "slower than WeChat waits: delivered again" if patience else "timeout (> 5 s: WeChat tries again)"
            with self.lock:
                self.failures[kind] = self.failures.get(kind, 0) + 1
        except requests.RequestException as exc:
            status, text = -1, None
            with self.lock:
                self.failures[type(exc).__name__] = self.failures.get(type(exc).__name__, 0) + 1
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            if status > 0:  # a copy WeChat gave up on has no answer time
                self.latencies.append(elapsed)
            self.deliveries += 1
            intent.answers.append((status, text, elapsed))
            if text:
                intent.numbers.update(NUMBER.findall(text))

    def deliver(self, intent: Intent) -> None:
        """One message from WeChat, with its retries and extra copies."""
        wx = self.wechat(intent.resident.account_id)
        if intent.event != "unsubscribe":
            self.interaction(intent.resident.account_id, intent.resident.openid)
        intent.sent_at = platform_now(self.clock_file)
        fields = self.fields(wx, intent, int(intent.sent_at))
        if intent.delivery == "burst":
            with ThreadPoolExecutor(intent.copies) as pool:
                list(pool.map(lambda _: self.copy(wx, fields, intent), range(intent.copies)))
            return
        wanted = intent.copies if intent.delivery == "retry" else 1
        tries = 0
        if intent.delivery == "slow":
            # The answer is slower than WeChat's patience: WeChat gives up while the platform is still at
            # work (here WeChat's 5 s are played by 50 ms), and delivers the message again.
            self.copy(wx, fields, intent, patience=SLOW_PATIENCE_S)
            tries = 1
        while tries < TRIES:
            self.copy(wx, fields, intent)
            tries += 1
            answered = intent.answers[-1][0] == 200
            if answered and tries >= wanted:
                return
            if not answered:
                time.sleep(0.2)  # WeChat waits 5 s for an answer, then tries again

    def run(self, intents: list[Intent], threads: int, progress=None) -> None:
        """Each resident's intents in order; residents side by side."""
        by_resident: dict[str, list[Intent]] = {}
        for intent in intents:
            by_resident.setdefault(intent.resident.openid, []).append(intent)
        done = [0]

        def one(items: list[Intent]) -> None:
            for intent in items:
                try:
                    self.deliver(intent)
                except Exception as exc:  # noqa: BLE001 - recorded against the intent; the day goes on
                    intent.error = f"{type(exc).__name__}: {exc}"
                with self.lock:
                    done[0] += 1
                    if progress and done[0] % 200 == 0:
                        progress(done[0], len(intents))

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, by_resident.values()))
