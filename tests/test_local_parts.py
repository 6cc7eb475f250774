"""The laptop stack's parts: the AWS endpoint's kept state, the shared clock and the resident picker of the
WeChat emulator, .local/stack.env, the leftover check, chalice local's listen backlog."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest

from chalicelib import clock
from local import aws_endpoint, stack as laptop
from local.wechat_emulator import DEFAULT_OPENID, FileClock, new_resident_openid, start_in_thread

ROOT = Path(__file__).resolve().parent.parent


def test_the_endpoints_state_survives_a_snapshot_and_restore(moto_server):
    from botocore.session import get_session

    session = get_session()
    ddb = session.create_client("dynamodb", region_name="cn-north-1", endpoint_url=moto_server)
    sqs = session.create_client("sqs", region_name="cn-north-1", endpoint_url=moto_server)
    ssm = session.create_client("ssm", region_name="cn-north-1", endpoint_url=moto_server)
    ddb.create_table(TableName="kept", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
    ddb.put_item(TableName="kept", Item={"k": {"S": "XG-20261201-0001"}})
    url = sqs.create_queue(QueueName="kept-queue")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="a notice")
    ssm.put_parameter(Name="/kept/secret", Value="demo", Type="SecureString")
    saved = aws_endpoint.snapshot()
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"))
    assert "kept" not in ddb.list_tables()["TableNames"]
    assert aws_endpoint.restore(saved) >= 3
    assert ddb.get_item(TableName="kept", Key={"k": {"S": "XG-20261201-0001"}})["Item"]
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "a notice"
    assert ssm.get_parameter(Name="/kept/secret", WithDecryption=True)["Parameter"]["Value"] == "demo"


def test_a_state_file_of_another_moto_version_is_refused(tmp_path):
    import pickle

    with pytest.raises(ValueError, match="saved by moto 0.0"):
        aws_endpoint.restore(pickle.dumps({"moto": "0.0", "state": {}}))


def test_the_emulators_clock_and_the_platforms_share_one_file(tmp_path, monkeypatch):
    path = tmp_path / "clock.json"
    clock.write_local_clock_file(str(path), offset_seconds=0.0)
    monkeypatch.setenv("STAGE", "local")
    monkeypatch.setenv("LOCAL_CLOCK_FILE", str(path))
    emulator_clock = FileClock(path)
    emulator_clock.set(datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc))
    assert abs(clock.now().timestamp() - datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc).timestamp()) < 5
    emulator_clock.advance(3600)
    time.sleep(0.01)
    assert abs(emulator_clock.time() - clock.now().timestamp()) < 1
    assert clock.now().hour == 2
    emulator_clock.reset()
    assert abs(clock.now().timestamp() - time.time()) < 1


def test_the_oauth_page_lets_you_choose_the_resident(tmp_path):
    from local import seed as seed_module
    from local.wechat_emulator import load_residents

    seed = seed_module.read()
    residents = load_residents(seed.path)
    assert DEFAULT_OPENID in [r["openid"] for r in residents] and "o-demo-resident" in [r["openid"] for r in residents]
    server, base = start_in_thread(accounts=seed.data["accounts"], residents=residents, log_path=tmp_path / "log")
    try:
        appid = next(a["appid"] for a in seed.data["accounts"] if a["id"] == "xianggang-huayuan")
        query = f"appid={appid}&redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Fh5%2Fx%2Foauth&response_type=code" \
                "&scope=snsapi_base&state=s1"
        browser = urllib.request.Request(f"{base}/connect/oauth2/authorize?{query}",
                                         headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        page = urllib.request.urlopen(browser).read().decode()
        assert "以哪位居民的身份进入" in page and "王阿姨" in page and 'name="new_resident"' in page

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect)
        for extra, openid in (("", DEFAULT_OPENID),  # a script, not a browser: WeChat's silent sign-in
                              ("&openid=o-demo-resident", "o-demo-resident"),
                              ("&new_resident=%E8%B5%B5%E5%A4%A7%E7%88%B7", new_resident_openid("赵大爷"))):
            try:
                opener.open(f"{base}/connect/oauth2/authorize?{query}{extra}")
            except urllib.error.HTTPError as err:
                assert err.code == 302
                code = err.headers["Location"].split("code=")[1].split("&")[0]
            assert server.emulator.oauth_codes[code]["openid"] == openid
    finally:
        server.shutdown()
        server.server_close()


def test_stack_env_is_written_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCAL_DIR", str(tmp_path))
    for var in ("AWS_ENDPOINT_URL", "PORT", "MOTO_PORT", "WECHAT_EMULATOR_PORT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PORT", "18123")
    env = laptop.stack_env()
    laptop.write_stack_env(env, {"moto": 1})
    values = laptop.read_stack_env()
    assert values["PLATFORM_URL"] == "http://127.0.0.1:18123" and values["STACK_PID"] == str(os.getpid())
    assert laptop.children_of(values) == {"moto": 1}
    monkeypatch.setenv("PORT", "1")  # a tool's own variables do not override the running stack's
    assert laptop.attach_env()["PLATFORM_URL"] == "http://127.0.0.1:18123"


def test_a_leftover_process_of_an_earlier_stack_is_stopped(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCAL_DIR", str(tmp_path))
    leftover = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "local.aws_endpoint"])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (tmp_path / "stack.env").write_text(f"STACK_PID={gone.pid}\nSTACK_CHILDREN=moto:{leftover.pid}\n")
    assert laptop.stop_leftovers(out=sys.stderr) is None
    assert leftover.wait(timeout=10) is not None
    assert not (tmp_path / "stack.env").exists()


def test_a_busy_port_is_named_with_its_process():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        pid, command = laptop.port_holder(s.getsockname()[1])
    assert pid == os.getpid() and "python" in command


def test_chalice_local_listens_with_a_larger_backlog(monkeypatch):
    from chalice import local as chalice_local

    from local.chalice_local import LISTEN_BACKLOG, raise_backlog

    monkeypatch.setattr(chalice_local.ThreadedHTTPServer, "request_queue_size", 5)
    raise_backlog()
    assert chalice_local.ThreadedHTTPServer.request_queue_size == LISTEN_BACKLOG >= 128


def test_botocores_credential_line_is_silenced_in_the_laptops_processes():
    import logging

    from local.quiet import quiet_laptop_logs

    quiet_laptop_logs()
    assert not logging.getLogger("botocore.credentials").isEnabledFor(logging.INFO)


def test_make_reset_forgets_the_kept_state_but_not_while_the_stack_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCAL_DIR", str(tmp_path))
    (tmp_path / laptop.STATE_FILE).write_bytes(b"state")
    (tmp_path / "stack.env").write_text(f"STACK_PID={os.getpid()}\n")  # a running stack (this process)
    assert laptop.reset() == 1 and (tmp_path / laptop.STATE_FILE).exists()
    (tmp_path / "stack.env").unlink()
    assert laptop.reset() == 0 and not (tmp_path / laptop.STATE_FILE).exists()


def test_make_run_loads_the_seed_only_when_the_district_is_not_there(aws):
    from local import seed as seed_module

    data = seed_module.read()
    assert not seed_module.has_district(data)  # empty (or a state that could not be restored): load the seed
    seed_module.load(data)
    assert seed_module.has_district(data)  # the kept state: loading again would overwrite staff's edits


@pytest.mark.parametrize("module", ["local.aws_endpoint", "local.wechat_emulator"])
def test_a_server_stops_at_once_with_a_client_keeping_its_connection_open(module, tmp_path):
    """A stopped stack frees its ports at once: a client holding a connection open (a browser's preconnect,
    a half-sent request) holds neither the AWS endpoint (which saves its state first) nor the emulator."""
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = [sys.executable, "-m", module, "--port", str(port)]
    args += ["--state", str(tmp_path / "state.pickle")] if module == "local.aws_endpoint" else \
        ["--log", str(tmp_path / "calls.jsonl")]
    server = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        path = "/moto-api/" if module == "local.aws_endpoint" else "/__emulator/health"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5).read()
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        idle = socket.create_connection(("127.0.0.1", port))
        idle.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\n")  # and nothing more
        time.sleep(0.5)
        server.terminate()
        assert server.wait(timeout=10) == 0  # with that connection still open
        if module == "local.aws_endpoint":
            assert (tmp_path / "state.pickle").stat().st_size > 0
        idle.close()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
