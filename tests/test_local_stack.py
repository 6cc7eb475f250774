"""`make run` as a new user meets it, end to end: the real stack in its own process group on free ports.

The queue pump delivers a notice to the WeChat emulator without any `make job`; `make job` finds the
stack through `.local/stack.env` alone; a clean stop leaves no process and keeps the state, so that a
restart still has the filed request, answers WeChat's retry of an acknowledged message with the same
number, and does not give that number to anyone else; `LOCAL_CLOCK` sets the platform's clock.
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from local import stack as laptop
from tests.wechat_driver import WeChat

ROOT = Path(__file__).resolve().parent.parent
NUMBER = re.compile(r"XG-\d{8}-\d{4}")
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body=None, headers=None) -> SimpleNamespace:
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", **(headers or {})})
    try:
        with OPENER.open(request, timeout=30) as answer:
            return SimpleNamespace(status_code=answer.status, body=answer.read(), headers=answer.headers)
    except urllib.error.HTTPError as err:
        return SimpleNamespace(status_code=err.code, body=err.read(), headers=err.headers)


class Platform:
    """The test client shape tests/wechat_driver.py expects, over real HTTP."""

    def __init__(self, base: str):
        self.base = base

    def post(self, path: str, body: bytes, headers: dict) -> SimpleNamespace:
        return http("POST", self.base + path, body, headers)


class RunningStack:
    def __init__(self, folder: Path, ports: dict[str, int], clock: str | None):
        self.folder = folder
        env = {k: v for k, v in os.environ.items()
               if k not in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "STAGE", "SSM_PREFIX", "WECHAT_API_BASE",
                            "APP_VERSION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        env.update({"LOCAL_DIR": str(folder), "ARGON2_PROFILE": "CHEAPEST", "PYTHONPATH": str(ROOT),
                    **{k: str(v) for k, v in ports.items()}})
        if clock:
            env["LOCAL_CLOCK"] = clock
        self.env = env
        self.out_path = folder.parent / f"stack-{time.monotonic_ns()}.out"
        self.out = open(self.out_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "local.stack"], cwd=ROOT, env=env, stdout=self.out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.values = self.wait_up()

    def output(self) -> str:
        self.out.flush()
        return self.out_path.read_text(encoding="utf-8", errors="replace")

    def wait_up(self, seconds: float = 120) -> dict:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()[-3000:]
            if "laptop stack is up" in self.output():
                return laptop.read_stack_env(self.folder / "stack.env")
            time.sleep(0.3)
        raise AssertionError("the stack did not come up:\n" + self.output()[-3000:])

    def stop(self) -> list[int]:
        """SIGTERM to the group, as a terminal's Ctrl-C or a supervisor would; returns processes left alive."""
        children = laptop.children_of(self.values)
        os.killpg(self.proc.pid, signal.SIGTERM)
        assert self.proc.wait(timeout=60) == 0, self.output()[-3000:]
        self.out.close()
        time.sleep(0.5)
        return [pid for pid in children.values() if laptop.pid_alive(pid)]

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def stack_dir(tmp_path):
    made: list[RunningStack] = []
    ports = {"PORT": free_port(), "WECHAT_EMULATOR_PORT": free_port(), "MOTO_PORT": free_port()}

    def start(clock: str | None = "2026-12-01T09:30+08:00") -> RunningStack:
        running = RunningStack(tmp_path / "local", ports, clock)
        made.append(running)
        return running

    yield start
    for running in made:
        running.kill()


def login(base: str) -> str:
    answer = http("POST", base + "/api/v1/auth/login", {"username": "sw.xianggang-huayuan", "password": "Demo#2026"})
    assert answer.status_code == 200, answer.body
    return json.loads(answer.body)["token"]


def sends_to(emulator: str, openid: str) -> list[dict]:
    calls = json.loads(http("GET", emulator + "/__emulator/calls?limit=1000").body)["calls"]
    return [c for c in calls if c["path"] in ("/cgi-bin/message/custom/send", "/cgi-bin/message/template/send",
                                              "/cgi-bin/message/subscribe/bizsend")
            and json.dumps(c["body"], ensure_ascii=False).find(openid) >= 0]


def platform_time(folder: Path) -> int:
    """Now on the stack's shared clock (WeChat signs its callbacks with its own, i.e. this, time)."""
    offset = json.loads((folder / "clock.json").read_text())["offset_seconds"]
    return int(time.time() + offset)


def test_make_run_pumps_queues_reads_stack_env_and_keeps_state_across_a_restart(stack_dir):
    stack = stack_dir()
    base, emulator = stack.values["PLATFORM_URL"], stack.values["WECHAT_API_BASE"]
    banner = stack.output()
    assert "2026-12-01 09:30 Asia/Shanghai" in banner  # LOCAL_CLOCK is shown ...
    assert f"{base}/h5/xianggang-huayuan/request" in banner and f"{base}/h5/canteens/" in banner
    assert "Found credentials" not in banner and "Using Default settings" not in banner  # quiet libraries

    # A resident files a request through WeChat (a fixed MsgId, so that WeChat's retry can be replayed later).
    wx = WeChat(Platform(base), "xianggang-huayuan")
    message = wx.fields("o-test-resident", "text", created=platform_time(stack.folder), Content="楼道灯坏了，晚上很黑",
                        MsgId=7_000_000_001)
    first = wx.deliver(message, timestamp=platform_time(stack.folder))
    number = NUMBER.search(first.text).group(0)
    assert number.startswith("XG-20261201-")  # ... and the platform runs on it

    # Staff accept it: the notice goes through the outbox queue, and the pump sends it; nobody runs `make job`.
    token = login(base)
    moved = http("POST", f"{base}/api/v1/requests/{number}/transitions", {"action": "accept"},
                 {"Authorization": f"Bearer {token}"})
    assert moved.status_code == 200, moved.body
    deadline = time.monotonic() + 15
    while not sends_to(emulator, "o-test-resident") and time.monotonic() < deadline:
        time.sleep(0.3)
    assert sends_to(emulator, "o-test-resident"), "the pump did not deliver the notice"

    # `make job` finds the stack from .local/stack.env alone (no port variable is given).
    job_env = {k: v for k, v in stack.env.items() if k not in ("PORT", "WECHAT_EMULATOR_PORT", "MOTO_PORT")}
    job = subprocess.run(["make", "-s", "--no-print-directory", "-o", ".venv/.installed", "job", "NAME=sla-sweep",
                          f"PY={sys.executable}"], cwd=ROOT, env=job_env, capture_output=True, text=True, timeout=120)
    assert job.returncode == 0, job.stderr[-3000:]
    assert json.loads(job.stdout[job.stdout.index('{\n'):])["job"] == "sla-sweep"
    assert "Found credentials" not in job.stdout + job.stderr

    # A clean stop: nothing left running, the endpoints file gone, the state kept.
    assert stack.stop() == []
    assert not (stack.folder / "stack.env").exists()
    assert (stack.folder / laptop.STATE_FILE).stat().st_size > 0

    again = stack_dir()
    assert "kept from the last run" in again.output()
    token = login(base)
    kept = http("GET", f"{base}/api/v1/requests/{number}", headers={"Authorization": f"Bearer {token}"})
    assert kept.status_code == 200 and json.loads(kept.body)["state"] == "accepted"
    # WeChat retries the acknowledged message: the same number again, nothing filed twice ...
    retry = wx.deliver(message, timestamp=platform_time(again.folder))
    assert NUMBER.search(retry.text).group(0) == number
    # ... and the next resident's request gets a later number, never one already given.
    other = wx.deliver(wx.fields("o-test-other", "text", created=platform_time(again.folder), Content="下水道堵了"),
                       timestamp=platform_time(again.folder))
    later = NUMBER.search(other.text).group(0)
    assert later[:-4] == number[:-4] and int(later[-4:]) > int(number[-4:])
    assert again.stop() == []


def test_make_job_without_a_running_stack_says_so_in_one_line(tmp_path):
    env = {**os.environ, "LOCAL_DIR": str(tmp_path)}
    job = subprocess.run([sys.executable, "-m", "local.jobs", "sla-sweep"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert job.returncode == 1
    assert job.stderr.strip().splitlines() == [f"job: no laptop stack is running ({tmp_path}/stack.env is missing): "
                                               "start one with `make run`"]
