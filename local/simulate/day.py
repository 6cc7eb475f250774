"""One compressed day of the district, phase by phase, against the simulator's own stack."""
from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from chalicelib import clock
from chalicelib.jobs import JOBS
from local.simulate.delivery import Deliverer, platform_now
from local.simulate.district import Script, residents
from local.simulate.stack import SimStack
from local.simulate.staff import CHECKLIST, StaffClient

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Options:
    accounts: int | None = None
    residents: int = 2000
    faults: bool = False
    month_end: bool = False
    clock: str = "2026-11-30T07:30+08:00"
    threads: int = 8
    seed: int = 17
    out: Path = Path(".local/simulate")
    short: bool = False  # the test's version: fewer residents, shorter settles, no long WeChat time-outs


@dataclass
class Phase:
    name: str
    started: float
    seconds: float = 0.0
    counts: dict = field(default_factory=dict)  # AWS calls and units during the phase
    messages: int = 0
    deliveries: int = 0
    lambda_invocations: int = 0
    lambda_ms: float = 0.0


class Day:
    def __init__(self, opts: Options, log=print):
        self.opts = opts
        self.log = log
        self.rng = random.Random(opts.seed)
        self.stack: SimStack | None = None
        self.phases: list[Phase] = []
        self.jobs: dict[str, dict] = {}
        self.faults: dict[str, dict] = {}
        self.staff_actions: Counter = Counter()
        self.events: list[str] = []
        self.start_clock = datetime.fromisoformat(opts.clock)
        self.bulletin: dict | None = None
        self.lock = threading.Lock()

    # ---- time ------------------------------------------------------------------------------------------

    def at(self, hhmm: str, day_offset: int = 0) -> None:
        """Move the platform's clock forward to hh:mm of the simulated day (never back)."""
        base = self.start_clock.astimezone(SHANGHAI).date() + timedelta(days=day_offset)
        hour, minute = map(int, hhmm.split(":"))
        target = datetime(base.year, base.month, base.day, hour, minute, tzinfo=SHANGHAI)
        now = platform_now(self.stack.env["LOCAL_CLOCK_FILE"])
        if target.timestamp() > now:
            clock.write_local_clock_file(self.stack.env["LOCAL_CLOCK_FILE"],
                                         offset_seconds=target.timestamp() - time.time())

    def advance(self, seconds: float) -> None:
        now = platform_now(self.stack.env["LOCAL_CLOCK_FILE"])
        clock.write_local_clock_file(self.stack.env["LOCAL_CLOCK_FILE"], offset_seconds=now + seconds - time.time())

    def shanghai_now(self) -> datetime:
        return datetime.fromtimestamp(platform_now(self.stack.env["LOCAL_CLOCK_FILE"]), SHANGHAI)

    # ---- phases -----------------------------------------------------------------------------------------

    def phase(self, name: str):
        day = self

        class _Phase:
            def __enter__(self_inner):
                day.log(f"[{day.shanghai_now():%H:%M}] {name} …")
                self_inner.p = Phase(name, time.monotonic())
                self_inner.before = day.stack.counts()
                self_inner.batches = len(day.stack.pump_batches())
                return self_inner.p

            def __exit__(self_inner, *exc):
                p = self_inner.p
                after = day.stack.counts()
                p.seconds = time.monotonic() - p.started
                p.counts = diff_counts(self_inner.before, after)
                batches = day.stack.pump_batches()[self_inner.batches:]
                p.lambda_invocations += len(batches)
                p.lambda_ms += sum(ms for _, _, ms in batches)
                day.phases.append(p)
                return False

        return _Phase()

    def settle(self, budget_s: float = 60) -> None:
        """Let the queues run dry: the pump works; messages waiting out a back-off or a dead worker's
        visibility timeout are made visible (time is compressed), and the clock moves on with them."""
        deadline = time.monotonic() + budget_s  # without progress; at most ten times that in all
        last_stop = time.monotonic() + 10 * budget_s
        quiet_rounds = 0
        done = len(self.stack.pump_batches())
        while time.monotonic() < min(deadline, last_stop):
            if not self.stack.pumps_alive():
                for name in self.stack.restart_pumps():
                    self.events.append(f"the killed queue worker's place is taken by a new one ({name} started again)")
                    self.log(f"  queue worker {name} was killed; a new one starts")
            now_done = len(self.stack.pump_batches())
            if now_done > done:
                done, deadline = now_done, time.monotonic() + budget_s
            try:
                depths = self.stack.queue_depths()
            except Exception as exc:  # noqa: BLE001 - an injected SQS fault: look again
                self.log(f"  (queue depth unavailable: {type(exc).__name__})")
                time.sleep(0.5)
                continue
            visible = sum(v for v, _ in depths.values())
            hidden = sum(h for _, h in depths.values())
            if not visible and not hidden:
                quiet_rounds += 1
                if quiet_rounds >= 2:
                    return
                time.sleep(0.3)
                continue
            quiet_rounds = 0
            if not visible and hidden:
                time.sleep(0.5)
                if self.idle():  # no handler at work: what is hidden waits out a back-off or a dead worker
                    self.advance(200)  # past the outbox lease and the queues' back-offs
                    self.stack.expire_visibility()
            else:
                time.sleep(0.5)
        self.log(f"  queues not empty ({budget_s:.0f} s without progress): {self.stack.queue_depths()}")

    def idle(self) -> bool:
        """Time may jump only when no queue handler is at work: none is waiting on AWS or on WeChat, and
        none has asked AWS anything for 1.5 s (else a jump would end a lease under a live worker's feet)."""
        aws = self.stack.counts()
        return aws.get("in_flight", 0) == 0 and aws.get("idle_s", 0) >= 1.5 and \
            self.stack.emulator("faults").get("in_flight", 0) == 0

    def run_job(self, name: str, detail: dict | None = None) -> dict:
        """Invoke the job, then let the queues it filled run dry; its figures include that queue work."""
        started = time.perf_counter()
        before = self.stack.counts()
        batches = len(self.stack.pump_batches())
        try:
            result = self.invoke_job(name, detail or {})
        except Exception as exc:  # noqa: BLE001 - a job's failure is part of the report, not the end of the day
            result = {"error": f"{type(exc).__name__}: {exc}"}
        handler_s = time.perf_counter() - started
        self.settle()
        seconds = time.perf_counter() - started
        counts = diff_counts(before, self.stack.counts())
        work = self.stack.pump_batches()[batches:]
        entry = self.jobs.setdefault(name, {"runs": 0, "seconds": 0.0, "handler_s": 0.0, "handled": 0,
                                            "invocations": 0, "queue_ms": 0.0, "calls": Counter(), "rru": 0.0,
                                            "wru": 0.0, "results": []})
        entry["runs"] += 1
        entry["seconds"] += seconds
        entry["handler_s"] += handler_s
        entry["handled"] += sum(n for _, n, _ in work)
        entry["invocations"] += 1 + len(work)
        entry["queue_ms"] += sum(ms for _, _, ms in work)
        entry["calls"].update(counts["calls"])
        entry["rru"] += counts["rru"]
        entry["wru"] += counts["wru"]
        entry["results"].append(result.get("result", result.get("error")))
        self.log(f"  job {name}: {json.dumps(result.get('result', result.get('error')), ensure_ascii=False, default=str)[:160]}"
                 f" ({seconds:.1f} s)")
        return result

    def invoke_job(self, name: str, detail: dict) -> dict:
        """The job's Lambda handler through Chalice's test client, with EventBridge's event, as `make job`
        (local/jobs.py) invokes it; the queues it fills are left to the stack's pump (the event source
        mapping), as in AWS, and the day settles them."""
        from chalice.test import Client

        from app import app
        from chalicelib.jobs import JOBS
        from local.stack import ROOT

        with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
            event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event",
                                                    detail=detail, resources=[f"make simulate {name}"])
            return {"job": name, "result": client.lambda_.invoke(JOBS[name].function, event).payload}

    # ---- the day --------------------------------------------------------------------------------------

    def run(self) -> dict:
        from local import seed as seed_module

        opts = self.opts
        folder = opts.out.resolve()
        folder.mkdir(parents=True, exist_ok=True)
        seed_file = None
        if opts.accounts:
            from local.simulate.district import scaled_seed
            from local.stack import ROOT

            seed_file = scaled_seed(ROOT / "local" / "seed.json", opts.accounts, folder / "seed")
            self.log(f"simulate: a district of {opts.accounts} accounts ({seed_file})")
        self.stack = SimStack(folder / "stack", seed_file=seed_file, log=self.log)
        os.environ.update(self.stack.env)  # the in-process jobs reach the same endpoints
        self.log(f"simulate: starting a private stack in {folder / 'stack'} at {opts.clock}")
        t0 = time.monotonic()
        self.stack.start(self.start_clock)
        self.log(f"  stack up in {time.monotonic() - t0:.0f} s: {self.stack.env['PLATFORM_URL']}")
        try:
            return self._day(seed_module.read(os.environ.get("SEED_FILE")))
        finally:
            self.stack.stop()

    def _day(self, seed) -> dict:
        opts, stack, rng = self.opts, self.stack, self.rng
        env = stack.env
        matrix = json.loads((Path(seed.path).parent / "seed.matrix.json").read_text(encoding="utf-8"))
        activity_counts = {}
        for account in seed.records("accounts"):
            activity_counts[account["id"]] = sum(1 for a in matrix.get("activities", [])
                                                 if a.get("community_id") in (None, account.get("community_id")))
        people = residents(seed, opts.residents, rng)
        script = Script(people, rng, activity_counts)
        wechat = Deliverer(env["PLATFORM_URL"], env["WECHAT_API_BASE"], env["LOCAL_CLOCK_FILE"], seed)
        self.wechat, self.script, self.seed = wechat, script, seed
        admin = StaffClient(env["PLATFORM_URL"], "admin.shinan")
        admin.login()
        self.staff = {"admin.shinan": admin}

        def progress(done, total):
            self.log(f"    {done}/{total} messages")

        if opts.month_end:  # the month's figures before the day, so the bulletin can be checked exactly
            with self.phase("monthly-bulletin: the month before the day (a draft)"):
                self.bulletin_before = self.bulletin_rows()
        if opts.faults:
            self.faults_on()

        # 07:30 — the morning: subscribes, needs, meal orders (tomorrow before the cut-off; today after it)
        script.morning()
        self.burst("morning", progress)

        self.at("08:00")
        with self.phase("daily-post 08:00"):
            self.run_job("daily-post")
            self.settle()

        self.at("09:00")
        if opts.faults:
            self.kill_pump_mid_batch()
        with self.phase("staff: first round, post reviews"):
            done = self.staff_round(share_done=0.5)
            self.review_posts()
            self.settle()

        self.at("09:30")
        numbered = {i.id: sorted(i.numbers)[0] for i in script.intents if i.kind in ("file", "meal") and i.numbers}
        script.midday(numbered)
        self.burst("midday", progress)

        self.at("10:00")
        with self.phase("sla-sweep 10:00"):
            self.run_job("sla-sweep")

        self.at("11:30")
        with self.phase("staff: lunch deliveries"):
            self.deliveries()
            self.settle()

        self.at("12:00")
        with self.phase("daily-post 12:00"):
            self.run_job("daily-post")
            self.settle()

        if opts.faults:
            self.at("13:00")
            self.collect_faults()
            took = stack.restart()
            self.events.append(f"stack restarted at 13:00 (stop with state saved, start again: {took:.0f} s)")
            self.log(f"  stack restarted in {took:.0f} s")
            self.faults_on()  # the endpoint and the emulator start with their switches off
            self.reopen_windows()

        self.at("14:00")
        script.afternoon(done)
        self.burst("afternoon", progress)

        self.at("15:00")
        with self.phase("staff: second round"):
            self.staff_round(share_done=0.6)
            self.settle()
        with self.phase("sla-sweep 15:00"):
            self.run_job("sla-sweep")

        self.at("17:00")
        with self.phase("post-reminder 17:00"):
            self.run_job("post-reminder")
            self.settle()

        self.at("18:00")
        with self.phase("daily-post 18:00"):
            self.run_job("daily-post")
            self.settle()

        self.at("20:30")
        script.evening()
        self.burst("evening", progress)

        self.at("21:00")
        with self.phase("sla-sweep 21:00"):
            self.run_job("sla-sweep")
            self.settle()

        self.at("02:00", day_offset=1)
        with self.phase("daily-stats 02:00"):
            day = self.start_clock.astimezone(SHANGHAI).date()
            self.run_job("daily-stats", {"day": day.isoformat()})
            self.settle()

        self.collect_faults()
        stack.aws("/__local/faults", {})
        stack.emulator("faults", {})
        with self.phase("outbox-redrive, last drain"):
            self.advance(600)
            self.run_job("outbox-redrive")
            self.settle(240)

        if opts.month_end:
            self.at("10:00", day_offset=1)  # the job's own hour (on the 1st, for the month that just ended)
            with self.phase("monthly-bulletin"):
                self.month_end()
        return self.collect()

    def burst(self, name: str, progress) -> None:
        todo = [i for i in self.script.intents if i.phase == name]
        with self.phase(f"residents: {name} ({len(todo)} messages)") as p:
            self.wechat.run(todo, self.opts.threads, progress)
            p.messages = len(todo)
            p.deliveries = sum(len(i.answers) for i in todo)
            p.lambda_invocations += p.deliveries
            p.lambda_ms += sum(ms for i in todo for _, _, ms in i.answers)
            self.settle()

    # ---- staff ------------------------------------------------------------------------------------------

    def communities(self) -> list[str]:
        """The communities the day's residents filed in (every request of the day is theirs), and the
        district's untriaged ones (filed with 微市南)."""
        district = self.seed.data["district"]["id"]
        filed = {i.resident.community_id for i in self.script.intents
                 if i.expects == "request" and i.resident.community_id}
        return sorted(filed) + [f"district#{district}"]

    def staff_round(self, share_done: float) -> dict[int, str]:
        """Accept, assign and complete open requests (meal orders are completed by delivering them): the
        communities' desks side by side, each request in order."""
        admin = self.staff["admin.shinan"]
        by_number = {n: i for i in self.script.intents for n in i.numbers}
        completed: dict[int, str] = {}
        plans = []
        for community in self.communities():
            for item in admin.all_requests(community):
                if item["category"] == "meal" or item["state"] not in ("submitted", "accepted", "assigned"):
                    continue
                steps = {"submitted": ["accept", "assign"], "accepted": ["assign"], "assigned": []}[item["state"]]
                if not item.get("community_id"):  # 微市南's untriaged ones: accepted, then a person calls back
                    steps = ["accept"] if item["state"] == "submitted" else []
                elif self.rng.random() < share_done:
                    steps.append("complete")
                plans.append((item["number"], steps))

        def work(plan) -> None:
            number, steps = plan
            for action in steps:
                answer = admin.call("POST", f"/api/v1/requests/{number}/transitions", {"action": action})
                with self.lock:
                    self.staff_actions[action if "_status" not in answer else f"{action} refused"] += 1
                if "_status" in answer:
                    return
            if steps and steps[-1] == "complete" and number in by_number:
                with self.lock:
                    completed[by_number[number].id] = number

        with ThreadPoolExecutor(self.opts.threads) as pool:
            list(pool.map(work, plans))
        return completed

    def deliveries(self) -> None:
        admin = self.staff["admin.shinan"]
        today = self.shanghai_now().date().isoformat()
        for canteen in self.seed.records("canteens"):
            rows = admin.call("GET", f"/api/v1/canteens/{canteen['id']}/deliveries",
                              params={"date": today, "meal": "lunch"}).get("items", [])
            for row in rows:
                number = row.get("number")
                if not number:
                    continue
                answer = admin.call("POST", f"/api/v1/canteens/{canteen['id']}/deliveries/{number}/delivered")
                self.staff_actions["deliver meal" if "_status" not in answer else "deliver meal refused"] += 1

    def review_posts(self) -> None:
        """Directors and sub-district reviewers take the posts waiting for them (the five-step review)."""
        reviewers = sorted({u["username"] for u in self.seed.records("staff")
                            if u["role"] in ("director", "subdistrict_reviewer")},
                           key=lambda u: not u.startswith("director."))
        for username in reviewers:
            client = self.staff.get(username)
            if client is None:
                client = self.staff[username] = StaffClient(self.stack.env["PLATFORM_URL"], username)
                client.login()
            queue = client.call("GET", "/api/v1/publishing/queue")
            for item in queue.get("items", []):
                if item.get("state") not in ("first_review", "second_review"):
                    continue
                answer = client.call("POST", f"/api/v1/posts/{item['post_id']}/steps",
                                     {"action": "approve", "checklist": CHECKLIST})
                self.staff_actions["approve post" if "_status" not in answer else "approve post refused"] += 1

    # ---- faults -----------------------------------------------------------------------------------------

    def faults_on(self) -> None:
        short = self.opts.short
        self.stack.aws("/__local/faults", {"seed": self.opts.seed, "ddb_throttle": 0.03, "ddb_timeout": 0.004,
                                           "ddb_slow": 0.003, "sqs_error": 0.03, "timeout_s": 2.3,
                                           "slow_s": 0.8 if short else 1.2})
        self.stack.emulator("faults", {"seed": self.opts.seed, "timeout_s": 16, "slow_s": 0.8 if short else 1.5,
                                       "rates": {"40001": 0.02, "45015": 0.02, "45047": 0.02, "45028": 0.3,
                                                 "5xx": 0.03, "timeout": 0.01, "slow": 0.03},
                                       "max": {"timeout": 0 if short else 2}})

    def collect_faults(self) -> None:
        """Add up what the endpoint and the emulator injected (both forget at a restart: collected before)."""
        for source, answer in (("aws", self.stack.aws("/__local/faults")), ("wechat", self.stack.emulator("faults"))):
            for kind, n in answer.get("injected", {}).items():
                self.faults.setdefault(source, Counter())[kind] += n

    def kill_pump_mid_batch(self) -> None:
        """Arm the emulator: on the next customer-service send, the queue worker sending it is killed
        before WeChat acts on it (it dies mid-batch, holding the rest of its batch)."""
        pids = [self.stack.procs[name].pid for name in self.stack.pumps]
        self.stack.emulator("faults", {**self.stack.emulator("faults")["config"], "kill_pids": pids,
                                       "kill_pid": pids[0], "kill_on": "/cgi-bin/message/custom/send",
                                       "kill_after": 3})
        self.events.append("the queue worker making the next customer-service send but two is to be killed "
                           "mid-batch, before WeChat acts on it")

    def reopen_windows(self) -> None:
        """The restarted emulator forgot who wrote: WeChat would not have; tell it again."""
        seen = {(i.resident.account_id, i.resident.openid) for i in self.script.intents if i.answers
                and i.event != "unsubscribe"}
        for account_id, openid in seen:
            self.wechat.interaction(account_id, openid)

    # ---- month end --------------------------------------------------------------------------------------

    def month_end(self) -> None:
        month = self.start_clock.astimezone(SHANGHAI).strftime("%Y-%m")
        if "monthly-bulletin" not in JOBS:
            self.bulletin = {"available": False, "month": month}
            self.log("  bulletin: job not available (JOBS has no monthly-bulletin)")
            return
        answer = self.bulletin_rows()
        self.bulletin = {"available": True, "month": month, "answer": answer,
                         "before": getattr(self, "bulletin_before", None)}
        issued = self.run_job("monthly-bulletin", {"month": month, "issue": True})
        self.settle()
        self.bulletin["issued"] = issued
        self.log(f"  bulletin {month} issued: {json.dumps(issued, ensure_ascii=False)[:300]}")

    def bulletin_rows(self) -> dict:
        """The month's bulletin as a fresh draft (the job rebuilds a draft), as the district admin reads it."""
        month = self.start_clock.astimezone(SHANGHAI).strftime("%Y-%m")
        if "monthly-bulletin" not in JOBS:
            return {}
        self.run_job("monthly-bulletin", {"month": month})
        self.settle()
        return self.staff["admin.shinan"].call("GET", f"/api/v1/bulletins/{month}")

    # ---- the ledger -------------------------------------------------------------------------------------

    def collect(self) -> dict:
        from local.simulate.ledger import reckon

        return reckon(self)


def diff_counts(before: dict, after: dict) -> dict:
    calls = Counter(after.get("calls", {}))
    calls.subtract(before.get("calls", {}))
    units = Counter(after.get("units_by_op", {}))
    units.subtract(before.get("units_by_op", {}))
    return {"calls": {k: v for k, v in calls.items() if v}, "rru": after["units"]["rru"] - before["units"]["rru"],
            "wru": after["units"]["wru"] - before["units"]["wru"], "units_by_op": {k: v for k, v in units.items() if v}}
