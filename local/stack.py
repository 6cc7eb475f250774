"""`make run`: the embedded laptop stack in one foreground process group.

Starts a moto server (DynamoDB, SQS, SSM) as the AWS endpoint, restores the state of the last run or
creates the tables and queues and loads the seed, starts the WeChat API emulator, `chalice local --stage
local` and the queue pump (local/pump.py: the queues' Lambda handlers, fed as Lambda's event source mapping
would), then prints a banner. Ctrl-C or SIGTERM stops every child (the AWS endpoint saves its state); none
is left behind.

Ports: MOTO_PORT (5000), WECHAT_EMULATOR_PORT (8001), PORT (8000). AWS_ENDPOINT_URL, when set, names an
existing DynamoDB-compatible endpoint instead of starting moto (its state is then its own business).
LOCAL_CLOCK=2026-12-01T09:30+08:00 runs the platform's clock from that moment (chalicelib/clock.py).

Files in .local/ (LOCAL_DIR): stack.env (the running stack's endpoints and process ids: `make job`, `make
bench` and the other laptop tools read it), moto-state.pickle (the kept state), clock.json (the shared
clock), wechat-api.jsonl (every WeChat API call), and the children's logs.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from local import seed as seed_module
from local.procnet import socket_inodes

ROOT = Path(__file__).resolve().parent.parent
DEMO_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}  # demo values, not secrets
STATE_FILE = "moto-state.pickle"
# What `.local/stack.env` holds: what a tool needs to reach the running stack.
STACK_ENV_KEYS = ("AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_REGION", "STAGE", "APP_VERSION", "SSM_PREFIX",
                  "WECHAT_API_BASE", "WECHAT_EMULATOR_PORT", "PLATFORM_URL", "PORT", "MOTO_PORT",
                  "LOCAL_CLOCK_FILE", "WECHAT_EMULATOR_LOG", "SEED_FILE", "LOCAL_DIR")


class StackNotRunning(RuntimeError):
    """No laptop stack is running (no .local/stack.env, or its process has gone)."""


def local_dir() -> Path:
    return Path(os.environ.get("LOCAL_DIR") or ROOT / ".local")


def stack_env() -> dict[str, str]:
    """The environment every part of a new laptop stack shares, from the variables `make run` was given."""
    moto_port = int(os.environ.get("MOTO_PORT", "5000"))
    emulator_port = int(os.environ.get("WECHAT_EMULATOR_PORT", "8001"))
    port = int(os.environ.get("PORT", "8000"))
    folder = local_dir()
    env = dict(os.environ)
    env.pop("LOCAL_CLOCK", None)  # the stack's processes share .local/clock.json instead (written from it)
    for key, value in DEMO_CREDENTIALS.items():
        env.setdefault(key, value)
    env.setdefault("AWS_ENDPOINT_URL", f"http://127.0.0.1:{moto_port}")
    env.setdefault("AWS_DEFAULT_REGION", "cn-north-1")
    env.setdefault("AWS_REGION", env["AWS_DEFAULT_REGION"])
    env.setdefault("SEED_FILE", str(ROOT / "local" / "seed.json"))
    env.update({
        "STAGE": "local",
        "APP_VERSION": "local",
        "SSM_PREFIX": "/wechat-alliance/local",
        "WECHAT_API_BASE": f"http://127.0.0.1:{emulator_port}",
        "WECHAT_EMULATOR_PORT": str(emulator_port),
        "PLATFORM_URL": f"http://127.0.0.1:{port}",
        "PORT": str(port),
        "MOTO_PORT": str(moto_port),
        "LOCAL_DIR": str(folder),
        "LOCAL_CLOCK_FILE": str(folder / "clock.json"),
        "WECHAT_EMULATOR_LOG": str(folder / "wechat-api.jsonl"),
        "PYTHONPATH": str(ROOT),
    })
    return env


# ---- .local/stack.env ----------------------------------------------------------------------------

def stack_env_path() -> Path:
    return local_dir() / "stack.env"


def write_stack_env(env: dict[str, str], pids: dict[str, int]) -> Path:
    """KEY=value lines (shell-sourceable), plus the process ids of the stack and its children."""
    lines = ["# Written by `make run` (local/stack.py); read by `make job`, `make bench` and the laptop tools.",
             f"# Started {datetime.now(timezone.utc).isoformat(timespec='seconds')}; deleted on a clean stop."]
    lines += [f"{key}={env[key]}" for key in STACK_ENV_KEYS if env.get(key)]
    lines.append(f"STACK_PID={os.getpid()}")
    lines.append("STACK_CHILDREN=" + ",".join(f"{name}:{pid}" for name, pid in pids.items()))
    path = stack_env_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_stack_env(path: Path | None = None) -> dict[str, str]:
    path = path or stack_env_path()
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return values
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def children_of(values: dict[str, str]) -> dict[str, int]:
    pairs = [p.split(":", 1) for p in values.get("STACK_CHILDREN", "").split(",") if ":" in p]
    return {name: int(pid) for name, pid in pairs if pid.isdigit()}


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""


def attach_env() -> dict[str, str]:
    """For `make job` and the laptop tools: this environment plus the running stack's endpoints."""
    values = read_stack_env()
    if not values:
        raise StackNotRunning(f"no laptop stack is running ({stack_env_path()} is missing): start one with "
                              "`make run`")
    pid = int(values.get("STACK_PID", "0") or 0)
    if not pid or not pid_alive(pid):
        raise StackNotRunning(f"the laptop stack of {stack_env_path()} (pid {pid}) has stopped: start it again "
                              "with `make run`")
    env = dict(os.environ)
    for key, value in DEMO_CREDENTIALS.items():
        env.setdefault(key, value)
    env.update(values)
    env["PYTHONPATH"] = str(ROOT)
    return env


# ---- ports and leftovers -------------------------------------------------------------------------

def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_holder(port: int) -> tuple[int, str] | None:
    """(pid, command line) of the process listening on the port, from /proc (Linux), if it can be seen."""
    inodes = socket_inodes(port, listening=True)
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return int(proc.name), cmdline(int(proc.name))
        except OSError:
            continue
    return None


def stop_leftovers(out=sys.stderr) -> str | None:
    """Stop the processes an earlier stack left running; if that stack is still running, say so instead."""
    values = read_stack_env()
    if not values:
        return None
    pid = int(values.get("STACK_PID", "0") or 0)
    if pid and pid != os.getpid() and pid_alive(pid) and "local.stack" in cmdline(pid):
        return (f"a laptop stack is already running (pid {pid}, {values.get('PLATFORM_URL')}); stop it "
                f"(Ctrl-C in its terminal, or `kill {pid}`) or give this one other ports")
    left = {name: child for name, child in children_of(values).items()
            if pid_alive(child) and ("local." in cmdline(child) or "chalice" in cmdline(child))}
    for name, child in left.items():
        print(f"stack: stopping {name} (pid {child}) left over by an earlier stack", file=out)
        os.kill(child, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for name, child in left.items():
        while pid_alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_alive(child):
            os.kill(child, signal.SIGKILL)
    stack_env_path().unlink(missing_ok=True)
    return None


def _wait_http(url: str, seconds: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with code {proc.returncode}")
        try:
            with opener.open(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


def write_clock(env: dict[str, str]) -> datetime | None:
    """Write .local/clock.json from LOCAL_CLOCK (or the real time); returns the set start, if any."""
    from chalicelib import clock

    value = os.environ.get("LOCAL_CLOCK", "").strip()
    start = clock.parse_local_clock(value) if value else None
    offset = start.timestamp() - time.time() if start else 0.0
    Path(env["LOCAL_CLOCK_FILE"]).parent.mkdir(parents=True, exist_ok=True)
    clock.write_local_clock_file(env["LOCAL_CLOCK_FILE"], offset_seconds=offset)
    return start


class Stack:
    def __init__(self) -> None:
        self.env = stack_env()
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.restored = False
        self.clock_start: datetime | None = None

    @property
    def folder(self) -> Path:
        return Path(self.env["LOCAL_DIR"])

    def start(self, name: str, args: list[str], quiet: bool = False) -> subprocess.Popen:
        """Start a child in this process group; a quiet one writes to .local/<name>.log instead."""
        out = None
        if quiet:
            self.folder.mkdir(parents=True, exist_ok=True)
            out = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=out, stderr=out)
        self.children.append((name, proc))
        return proc

    def stop(self) -> None:
        for _, proc in reversed(self.children):
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 15  # the AWS endpoint saves its state before it exits
        for name, proc in reversed(self.children):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"stack: {name} did not stop, killing it", file=sys.stderr)
                proc.kill()
                proc.wait()
        if self.children:
            values = read_stack_env()
            if values.get("STACK_PID") == str(os.getpid()):
                stack_env_path().unlink(missing_ok=True)
        self.children.clear()

    def record(self) -> None:
        write_stack_env(self.env, {name: proc.pid for name, proc in self.children})

    def run(self) -> int:
        env = self.env
        py = sys.executable
        problem = stop_leftovers()
        if problem:
            print(f"stack: {problem}", file=sys.stderr)
            return 1
        needed = {"PORT": int(env["PORT"]), "WECHAT_EMULATOR_PORT": int(env["WECHAT_EMULATOR_PORT"])}
        own_moto = "AWS_ENDPOINT_URL" not in os.environ
        if own_moto:
            needed["MOTO_PORT"] = int(env["MOTO_PORT"])
        busy = []
        for name, port in needed.items():
            if not _port_free(port):
                holder = port_holder(port)
                busy.append(f"{name}={port}" + (f" (held by pid {holder[0]}: {holder[1][:120]})" if holder else ""))
        if busy:
            print(f"stack: port already in use: {'; '.join(busy)}. Stop that process or set the variable to "
                  "another port.", file=sys.stderr)
            return 1
        self.folder.mkdir(parents=True, exist_ok=True)
        self.clock_start = write_clock(env)
        state = self.folder / STATE_FILE
        if own_moto:
            moto = self.start("moto", [py, "-m", "local.aws_endpoint", "--port", env["MOTO_PORT"],
                                       "--state", str(state)], quiet=True)
            self.record()
            _wait_http(env["AWS_ENDPOINT_URL"] + "/moto-api/", 30, moto)
        code = self.prepare()
        if code:
            return code
        emulator = self.start("wechat-emulator", [py, "-m", "local.wechat_emulator", "--port",
                                                  env["WECHAT_EMULATOR_PORT"]], quiet=True)
        self.record()
        _wait_http(env["WECHAT_API_BASE"] + "/__emulator/health", 30, emulator)
        chalice = self.start("chalice", [py, "-m", "local.chalice_local", "--port", env["PORT"]])
        self.record()
        _wait_http(env["PLATFORM_URL"] + "/health", 60, chalice)
        self.start("pump", [py, "-m", "local.pump"], quiet=True)
        self.record()
        print(banner(env, restored=self.restored, clock_start=self.clock_start), flush=True)
        while all(proc.poll() is None for _, proc in self.children):
            time.sleep(0.5)
        failed = [name for name, proc in self.children if proc.poll() is not None]
        print(f"stack: {', '.join(failed)} stopped (see {self.folder}/<name>.log); stopping the rest",
              file=sys.stderr)
        return 1

    def prepare(self) -> int:
        """Tables and queues, and the seed unless the district is already there (the last run's state was
        restored); in a child so that it sees exactly the stack's environment."""
        done = subprocess.run([sys.executable, "-m", "local.seed", "--if-empty"], cwd=ROOT, env=self.env,
                              stdout=subprocess.PIPE, text=True)
        print(done.stdout, end="", flush=True)
        self.restored = seed_module.KEPT_STATE in done.stdout
        return done.returncode


def _pad(text: str, columns: int) -> str:
    """Pad for a terminal, where a CJK character takes two columns."""
    import unicodedata

    return text + " " * max(1, columns - sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text))


def banner(env: dict[str, str], restored: bool = False, clock_start: datetime | None = None) -> str:
    seed = seed_module.read(env.get("SEED_FILE"))
    logins = {}
    home = next((c for c in seed.records("communities") if c["id"] == "xianggang-huayuan"), None)
    near = {"xianggang-huayuan", home["subdistrict_id"] if home else ""}
    for user in sorted(seed.records("staff"), key=lambda u: not (near & {u.get("community_id"),
                                                                          u.get("subdistrict_id")})):
        logins.setdefault(user["role"], user)
    base = env["PLATFORM_URL"]
    folder = env.get("LOCAL_DIR", ".local")
    state = (f"kept from the last run ({folder}/{STATE_FILE}); `make reset` starts again from the seed" if restored
             else f"fresh from the seed; kept in {folder}/{STATE_FILE} when stopped")
    if clock_start:
        shanghai = clock_start.astimezone(ZoneInfo("Asia/Shanghai"))
        clock_line = (f"{shanghai:%Y-%m-%d %H:%M} Asia/Shanghai at start (LOCAL_CLOCK), running on; "
                      f"move it: POST {env['WECHAT_API_BASE']}/__emulator/clock")
    else:
        clock_line = "real time; set LOCAL_CLOCK=2026-12-01T09:30+08:00 to pick the moment"
    demo_ids = ("xianggang-huayuan", "wei-shinan")
    accounts = [a for a in seed.records("accounts") if a["id"] in demo_ids] or seed.records("accounts")[:2]
    lines = [
        "",
        "社区微信联盟服务平台 — laptop stack is up",
        f"  platform (chalice local)  {base}      health: {base}/health",
        f"  staff console             {base}/console      API: {base}/api/v1/openapi.json",
        f"  WeChat API emulator       {env['WECHAT_API_BASE']}      log: {folder}/wechat-api.jsonl",
        f"  AWS endpoint (moto)       {env['AWS_ENDPOINT_URL']}",
        "  queue pump                stats, outbox and inbound fed to their Lambda handlers "
        f"(log: {folder}/pump.log)",
        f"  clock                     {clock_line}",
        f"  state                     {state}",
        f"  seed                      {seed.path} ({len(seed.records('accounts'))} accounts)",
        "  demo staff logins (demo passwords, laptop only):",
        *[f"    {role:<22} {u['username']:<32} {u['demo_password']}" for role, u in logins.items()],
        "  residents' H5 pages (the emulator's sign-in page lets you pick the resident):",
        *[f"    {_pad(a['name'], 14)}{base}/h5/{a['id']}/request   {base}/h5/{a['id']}/profile" for a in accounts],
        "    (any account: /h5/<account_id>/request | /profile)",
        "  canteens (the large-type menu page; the id is its last part, e.g. for the staff delivery list):",
        *[f"    {_pad(c['name'], 24)}{base}/h5/canteens/{c['id']}" for c in seed.records("canteens")],
        "  try: a resident of 香港花园社区 writes to the community's account (the emulator signs, encrypts and",
        "  posts it as WeChat would, then opens the reply) —",
        f"    curl -s -X POST {env['WECHAT_API_BASE']}/__emulator/user-message -H 'content-type: application/json' \\",
        "      -d '{\"account_id\": \"xianggang-huayuan\", \"openid\": \"o-demo-resident\", "
        "\"content\": \"我们老两口身体不便，社区能否明天派人送饭？\"}'",
        "    then the same with \"content\": \"地址 香港中路10号3单元502\" — and see it in the console's inbox.",
        "  jobs: make job NAME=daily-stats | sla-sweep | outbox-redrive (queues: NAME=stats | outbox | inbound)",
        f"  endpoints for tools: {folder}/stack.env.  Ctrl-C stops everything.",
        "",
    ]
    return "\n".join(lines)


def reset() -> int:
    """`make reset`: forget the kept state, so that the next `make run` starts from the seed."""
    values = read_stack_env()
    pid = int(values.get("STACK_PID", "0") or 0)
    if pid and pid_alive(pid):
        print(f"reset: the laptop stack is running (pid {pid}); stop it first (Ctrl-C)", file=sys.stderr)
        return 1
    state = local_dir() / STATE_FILE
    removed = [p for p in (state, local_dir() / "clock.json") if p.exists()]
    for path in removed:
        path.unlink()
    print(f"reset: removed {', '.join(str(p) for p in removed) or 'nothing (no kept state)'}; the next "
          "`make run` starts from the seed")
    return 0


def main(argv: list[str] | None = None) -> int:
    if argv and argv[0] == "--reset":
        return reset()
    stack = Stack()

    def on_signal(signum, _frame):
        # Once: the group's processes get the signal too, and a second one (Ctrl-C twice, `timeout`
        # signalling its whole group) must not interrupt the orderly stop.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        return stack.run()
    except KeyboardInterrupt:
        print("\nstack: stopping", file=sys.stderr)
        return 0
    except RuntimeError as exc:
        print(f"stack: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
