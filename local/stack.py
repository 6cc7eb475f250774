"""`make run`: the embedded laptop stack in one foreground process group.

Starts a moto server (DynamoDB, SQS, SSM) as the AWS endpoint, creates the tables and queues, loads the
seed, starts the WeChat API emulator and `chalice local --stage local`, then prints a banner. Ctrl-C or
SIGTERM stops every child; none is left behind.

Ports: MOTO_PORT (5000), WECHAT_EMULATOR_PORT (8001), PORT (8000). AWS_ENDPOINT_URL, when set, names an
existing DynamoDB-compatible endpoint instead of starting moto.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}  # demo values, not secrets


def stack_env() -> dict[str, str]:
    """The environment every part of the laptop stack shares (also used by `make job`)."""
    moto_port = int(os.environ.get("MOTO_PORT", "5000"))
    emulator_port = int(os.environ.get("WECHAT_EMULATOR_PORT", "8001"))
    port = int(os.environ.get("PORT", "8000"))
    env = dict(os.environ)
    for key, value in DEMO_CREDENTIALS.items():
        env.setdefault(key, value)
    env.setdefault("AWS_ENDPOINT_URL", f"http://127.0.0.1:{moto_port}")
    env.setdefault("AWS_DEFAULT_REGION", "cn-north-1")
    env.setdefault("AWS_REGION", env["AWS_DEFAULT_REGION"])
    env.update({
        "STAGE": "local",
        "APP_VERSION": "local",
        "SSM_PREFIX": "/wechat-alliance/local",
        "WECHAT_API_BASE": f"http://127.0.0.1:{emulator_port}",
        "WECHAT_EMULATOR_PORT": str(emulator_port),
        "PLATFORM_URL": f"http://127.0.0.1:{port}",
        "PORT": str(port),
        "PYTHONPATH": str(ROOT),
    })
    return env


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait_http(url: str, seconds: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


class Stack:
    def __init__(self) -> None:
        self.env = stack_env()
        self.children: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], quiet: bool = False) -> subprocess.Popen:
        """Start a child in this process group; a quiet one writes to .local/<name>.log instead."""
        out = None
        if quiet:
            (ROOT / ".local").mkdir(exist_ok=True)
            out = open(ROOT / ".local" / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=out, stderr=out)
        self.children.append((name, proc))
        return proc

    def stop(self) -> None:
        for _, proc in reversed(self.children):
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 5
        for name, proc in reversed(self.children):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"stack: {name} did not stop, killing it", file=sys.stderr)
                proc.kill()
                proc.wait()
        self.children.clear()

    def run(self) -> int:
        env = self.env
        py = sys.executable
        needed = {"PORT": int(env["PORT"]), "WECHAT_EMULATOR_PORT": int(env["WECHAT_EMULATOR_PORT"])}
        own_moto = "AWS_ENDPOINT_URL" not in os.environ
        if own_moto:
            needed["MOTO_PORT"] = int(env["AWS_ENDPOINT_URL"].rsplit(":", 1)[1])
        busy = [f"{name}={port}" for name, port in needed.items() if not _port_free(port)]
        if busy:
            print(f"stack: port already in use: {', '.join(busy)} (set the variable to another port)",
                  file=sys.stderr)
            return 1
        if own_moto:
            moto = self.start("moto", [py, "-m", "local.aws_endpoint", "--port", str(needed["MOTO_PORT"])],
                              quiet=True)
            _wait_http(env["AWS_ENDPOINT_URL"] + "/moto-api/", 30, moto)
        code = self.prepare()
        if code:
            return code
        emulator = self.start("wechat-emulator", [py, "-m", "local.wechat_emulator", "--port",
                                                  env["WECHAT_EMULATOR_PORT"]])
        _wait_http(env["WECHAT_API_BASE"] + "/__emulator/calls", 30, emulator)
        chalice_cli = str(Path(py).parent / "chalice")
        chalice = self.start("chalice", [chalice_cli, "local", "--stage", "local", "--host", "127.0.0.1",
                                         "--port", env["PORT"], "--no-autoreload"])
        _wait_http(env["PLATFORM_URL"] + "/health", 60, chalice)
        print(banner(env), flush=True)
        while all(proc.poll() is None for _, proc in self.children):
            time.sleep(0.5)
        failed = [name for name, proc in self.children if proc.poll() is not None]
        print(f"stack: {', '.join(failed)} stopped; stopping the rest", file=sys.stderr)
        return 1

    def prepare(self) -> int:
        """Tables, queues and seed, in a child so that it sees exactly the stack's environment."""
        result = subprocess.run([sys.executable, "-m", "local.seed"], cwd=ROOT, env=self.env)
        return result.returncode


def banner(env: dict[str, str]) -> str:
    from local import seed as seed_module

    seed = seed_module.read(env.get("SEED_FILE"))
    logins = {}
    home = next((c for c in seed.records("communities") if c["id"] == "xianggang-huayuan"), None)
    near = {"xianggang-huayuan", home["subdistrict_id"] if home else ""}
    for user in sorted(seed.records("staff"), key=lambda u: not (near & {u.get("community_id"),
                                                                          u.get("subdistrict_id")})):
        logins.setdefault(user["role"], user)
    base = env["PLATFORM_URL"]
    lines = [
        "",
        "社区微信联盟服务平台 — laptop stack is up",
        f"  platform (chalice local)  {base}      health: {base}/health",
        f"  staff console             {base}/console      API: {base}/api/v1/openapi.json",
        f"  WeChat API emulator       {env['WECHAT_API_BASE']}      log: .local/wechat-api.jsonl",
        f"  AWS endpoint (moto)       {env['AWS_ENDPOINT_URL']}",
        f"  seed                      {seed.path} ({len(seed.records('accounts'))} accounts)",
        "  demo staff logins (demo passwords, laptop only):",
        *[f"    {role:<22} {u['username']:<32} {u['demo_password']}" for role, u in logins.items()],
        "  try: a resident of 香港花园社区 writes to the community's account (the emulator signs, encrypts and",
        "  posts it as WeChat would, then opens the reply) —",
        f"    curl -s -X POST {env['WECHAT_API_BASE']}/__emulator/user-message -H 'content-type: application/json' \\",
        "      -d '{\"account_id\": \"xianggang-huayuan\", \"openid\": \"o-demo-resident\", "
        "\"content\": \"我们老两口身体不便，社区能否明天派人送饭？\"}'",
        "    then the same with \"content\": \"地址 香港中路10号3单元502\" — and see it in the console's inbox.",
        "  jobs: make job NAME=daily-stats | sla-sweep | outbox-redrive",
        "  Ctrl-C stops everything.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    stack = Stack()

    def on_signal(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        return stack.run()
    except KeyboardInterrupt:
        print("\nstack: stopping", file=sys.stderr)
        return 0
    except RuntimeError as exc:
        print(f"stack: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
