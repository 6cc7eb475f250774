"""Callback latency through `chalice local`, against one conditional PutItem to the same DynamoDB.

Starts the laptop's AWS endpoint and `chalice local` on free ports, loads the seed, then interleaves
N rounds of: GET /health, one keyword callback (香港花园社区, safe mode: signed and encrypted), and one
conditional PutItem made directly to the endpoint. Goal: median(callback) - median(health) is at most
2x median(PutItem): the callback's own work costs no more than the one write it must make. Then a burst of
BURST connections at once: the laptop's server (local/chalice_local.py, a larger listen backlog) answers
them all. It is still a development server; Lambda is the real scale.

    python -m bench.callback_latency [--rounds 200]
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.table import Figure, render
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BURST = 200  # connections at once: chalice local's own listen backlog (5) resets some of them


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(url: str, seconds: float = 60) -> None:
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def run(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args(argv)

    import requests
    from botocore.session import get_session

    from local.stack import stack_env

    # A private stack on free ports, with its own folder: a running `make run` (and its clock) is untouched.
    os.environ["LOCAL_DIR"] = tempfile.mkdtemp(prefix="bench-stack-")
    os.environ.update({"MOTO_PORT": str(free_port()), "PORT": str(free_port()),
                       "WECHAT_EMULATOR_PORT": str(free_port()), "ARGON2_PROFILE": "CHEAPEST"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    env = {**stack_env(), "LOG_LEVEL": "WARNING"}
    py = sys.executable
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    children = [subprocess.Popen([py, "-m", "local.aws_endpoint", "--port", os.environ["MOTO_PORT"]], cwd=ROOT,
                                 env=env, **quiet)]
    try:
        wait(env["AWS_ENDPOINT_URL"] + "/moto-api/")
        subprocess.run([py, "-m", "local.seed"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        children.append(subprocess.Popen([py, "-m", "local.chalice_local", "--port", env["PORT"]], cwd=ROOT,
                                         env=env, **quiet))  # as `make run` starts it
        base = env["PLATFORM_URL"]
        wait(base + "/health")

        os.environ.update(env)
        from local import seed as seed_module
        from tests.wechat_driver import WeChat, message_xml, sign

        wx = WeChat(None, "xianggang-huayuan", seed_module.read())
        ddb = get_session().create_client("dynamodb", region_name=env["AWS_REGION"],
                                          endpoint_url=env["AWS_ENDPOINT_URL"])
        ddb.create_table(TableName="bench-latency", BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])

        def callback_request(i: int) -> tuple[str, bytes]:
            import xml.etree.ElementTree as ET

            ts, nonce = str(int(time.time())), f"n{i}"
            fields = wx.fields(f"o-bench-{i % 7}", "text", Content="帮助", MsgId=10**12 + i)
            envelope = wx.crypto().encrypt_message(message_xml(fields), nonce, ts)
            encrypted = ET.fromstring(envelope).findtext("Encrypt")
            query = {"signature": sign(wx.token, ts, nonce), "timestamp": ts, "nonce": nonce,
                     "encrypt_type": "aes", "msg_signature": sign(wx.token, ts, nonce, encrypted)}
            body = f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode()
            return f"{base}/wechat/xianggang-huayuan?{urlencode(query)}", body

        http = requests.Session()
        headers = {"Content-Type": "text/xml"}
        for i in range(5):  # warm: the container reads account, secrets and rules once
            url, body = callback_request(-1 - i)
            assert http.post(url, data=body, headers=headers).status_code == 200
        health, callback, put = [], [], []
        for i in range(args.rounds):
            url, body = callback_request(i)
            t = time.perf_counter()
            assert http.get(base + "/health").status_code == 200
            health.append(time.perf_counter() - t)
            t = time.perf_counter()
            answer = http.post(url, data=body, headers=headers)
            callback.append(time.perf_counter() - t)
            assert answer.status_code == 200 and "<Encrypt>" in answer.text, answer.text[:200]
            t = time.perf_counter()
            ddb.put_item(TableName="bench-latency", Item={"k": {"S": f"item-{i}"}},
                         ConditionExpression="attribute_not_exists(k)")
            put.append(time.perf_counter() - t)
        m_health, m_callback, m_put = (statistics.median(x) * 1000 for x in (health, callback, put))
        own = m_callback - m_health
        burst_s, burst_failed = burst(base + "/health", BURST)
        p95 = sorted(callback)[int(len(callback) * 0.95)] * 1000
        figures = [
            Figure(f"GET /health (median of {args.rounds})", f"{m_health:.2f} ms"),
            Figure("keyword callback, safe mode (median)", f"{m_callback:.2f} ms"),
            Figure("keyword callback, safe mode (p95)", f"{p95:.2f} ms"),
            Figure("conditional PutItem, direct (median)", f"{m_put:.2f} ms"),
            Figure("(callback - health) / PutItem", f"{own / m_put:.2f}", "<= 2", own / m_put <= 2),
            Figure(f"burst: {BURST} GET /health at once, failed", str(burst_failed), "0", burst_failed == 0),
            Figure(f"burst: {BURST} GET /health at once, all answered in", f"{burst_s:.2f} s"),
        ]
    finally:
        for child in reversed(children):
            child.terminate()
        for child in children:
            child.wait(timeout=10)
    return figures


def burst(url: str, count: int) -> tuple[float, int]:
    """`count` connections at once (the dev server's listen backlog decides whether they are reset):
    (seconds until all answered, how many failed)."""
    import threading
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    gate = threading.Barrier(count)
    failed: list[str] = []

    def hit() -> None:
        gate.wait()
        try:
            with opener.open(url, timeout=10) as answer:
                answer.read()
        except OSError as exc:
            failed.append(type(exc).__name__)

    threads = [threading.Thread(target=hit) for _ in range(count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, len(failed)


def main(argv: list[str] | None = None) -> int:
    print(render([("callback latency through chalice local", run(argv))]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
