"""The simulator's own laptop stack: the parts `make run` starts (local/stack.py), on free ports and in a
folder of its own (`.local/simulate/stack`), so that a running `make run` is left alone — and under the
simulator's control: its queue pump can be killed and started again, and the whole stack restarted
(the AWS endpoint keeps its state across a clean stop, as `make run`'s does).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

from local.stack import ROOT, STATE_FILE, _wait_http, stack_env

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child, before exec (Linux): SIGTERM when the simulator dies, so that no part is left behind."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def call(url: str, payload: dict | None = None, method: str | None = None, timeout: float = 30) -> dict:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data is not None else "GET"),
                                 headers={"Content-Type": "application/json"})
    with OPENER.open(req, timeout=timeout) as answer:
        return json.loads(answer.read() or b"{}")


class SimStack:
    """moto (counted, with fault switches), the seed, the WeChat emulator, chalice local and the pump."""

    def __init__(self, folder: Path, seed_file: Path | None = None, log=print, pumps: int = 3) -> None:
        self.folder = folder
        self.pumps = [f"pump-{n}" for n in range(1, pumps + 1)]  # Lambda runs queue handlers side by side
        self.log = log
        os.environ["LOCAL_DIR"] = str(folder)
        for name in ("MOTO_PORT", "PORT", "WECHAT_EMULATOR_PORT"):
            os.environ[name] = str(free_port())
        os.environ.pop("AWS_ENDPOINT_URL", None)
        if seed_file:
            os.environ["SEED_FILE"] = str(seed_file)
        self.env = {**stack_env(), "LOG_LEVEL": "WARNING", "ARGON2_PROFILE": "CHEAPEST"}
        self.procs: dict[str, subprocess.Popen] = {}
        self.restarts = 0
        self.pump_kills = 0

    # ---- processes ---------------------------------------------------------------------------------

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        out = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, env=self.env, stdout=out, stderr=out,
                                preexec_fn=_die_with_parent)
        self.procs[name] = proc
        return proc

    def start(self, clock_at: datetime, fresh: bool = True) -> None:
        from chalicelib import clock

        env = self.env
        if fresh:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        if fresh:
            clock.write_local_clock_file(env["LOCAL_CLOCK_FILE"], offset_seconds=clock_at.timestamp() - time.time())
        moto = self._start("moto", ["local.aws_endpoint", "--port", env["MOTO_PORT"], "--state",
                                    str(self.folder / STATE_FILE), "--checkpoint", "3600"])
        _wait_http(env["AWS_ENDPOINT_URL"] + "/moto-api/", 60, moto)
        if fresh:
            started = time.monotonic()
            seeded = subprocess.run([sys.executable, "-m", "local.seed", "--if-empty"], cwd=ROOT, env=env, check=False,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if seeded.returncode:
                raise RuntimeError(f"seed failed: {seeded.stdout[-2000:]}")
            self.log(f"  seed loaded in {time.monotonic() - started:.0f} s")
        emulator = self._start("wechat-emulator", ["local.wechat_emulator", "--port", env["WECHAT_EMULATOR_PORT"]])
        chalice = self._start("chalice", ["local.chalice_local", "--port", env["PORT"]])
        for name in self.pumps:
            self._start(name, ["local.pump"])
        _wait_http(env["WECHAT_API_BASE"] + "/__emulator/health", 60, emulator)
        _wait_http(env["PLATFORM_URL"] + "/health", 90, chalice)

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in reversed(list(self.procs.items())):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.log(f"  {name} did not stop; killing it")
                proc.kill()
                proc.wait()
        self.procs.clear()

    def restart(self) -> float:
        """Stop everything cleanly (the AWS endpoint saves its state) and start again; seconds it took."""
        started = time.monotonic()
        self.stop()
        self.start(datetime.now(), fresh=False)
        self.restarts += 1
        return time.monotonic() - started

    def restart_pumps(self) -> list[str]:
        """Start again every queue pump that has died; their names."""
        dead = [name for name in self.pumps if self.procs[name].poll() is not None]
        for name in dead:
            self._start(name, ["local.pump"])
        return dead

    def pumps_alive(self) -> bool:
        return all(self.procs[name].poll() is None for name in self.pumps)

    # ---- switches ------------------------------------------------------------------------------------

    def aws(self, path: str, payload: dict | None = None) -> dict:
        return call(self.env["AWS_ENDPOINT_URL"] + path, payload)

    def emulator(self, path: str, payload: dict | None = None, timeout: float = 30) -> dict:
        return call(self.env["WECHAT_API_BASE"] + "/__emulator/" + path, payload, timeout=timeout)

    def counts(self) -> dict:
        return self.aws("/__local/counts")

    def expire_visibility(self) -> int:
        return self.aws("/__local/sqs-expire", {}).get("expired", 0)

    def queue_depths(self) -> dict[str, tuple[int, int]]:
        from chalicelib import queues

        sqs = queues._sqs()
        depths = {}
        for name in queues.QUEUES:
            attrs = sqs.get_queue_attributes(QueueUrl=queues.queue_url(name), AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
            depths[name] = (int(attrs["ApproximateNumberOfMessages"]),
                            int(attrs["ApproximateNumberOfMessagesNotVisible"]))
        return depths

    def pump_batches(self) -> list[tuple[str, int, float]]:
        """(queue, messages, milliseconds) of every batch the pump processes have logged so far."""
        import re

        found = []
        pattern = re.compile(r"local\.pump (\w+): (\d+) received, .* in (\d+) ms")
        for name in self.pumps:
            try:
                text = (self.folder / f"{name}.log").read_text(errors="replace")
            except OSError:
                continue
            for line in text.splitlines():
                m = pattern.search(line)
                if m:
                    found.append((m.group(1), int(m.group(2)), float(m.group(3))))
        return found
