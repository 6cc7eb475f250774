"""The simulator's own ledger against what the platform did: lost and duplicated, and the day's figures.

- lost: a resident message WeChat delivered (with its retries) that became no request (for a need),
  and no reply and no follow-up (for anything else). The holding reply of a parked callback ("系统正忙…")
  is not an answer: the follow-up must come.
- duplicated: every second request for one need (by the marker each need carries, and by the numbers the
  replies named), every second identical notice to one resident, every second post of one account and
  day, every second suggestion for one intent.
"""
from __future__ import annotations

import json
import re
import statistics
from collections import Counter, defaultdict
from datetime import datetime

from local.simulate.delivery import HOLDING

# the mark local/simulate/district.py gives every need (full- or half-width brackets, simplified again)
MARKER = re.compile(r"[（(](\d+号楼\d+单元\d+室-\d+)[）)]")

NOT_PER_MESSAGE = {"sqs.ReceiveMessage", "sqs.GetQueueAttributes", "sqs.GetQueueUrl"}
LAMBDA_MEMORY_GB = 0.5  # .chalice/config.json lambda_memory_size 512
CHANNELS = {"/cgi-bin/message/custom/send": "客服消息 (custom)", "/cgi-bin/message/template/send": "模板消息 (template)",
            "/cgi-bin/message/subscribe/bizsend": "订阅消息 (subscribe)"}
POST_PATHS = {"/cgi-bin/message/mass/sendall": "mass send", "/cgi-bin/freepublish/submit": "free publish"}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def wechat_calls(path) -> list[dict]:
    calls = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return calls
    for line in lines:
        try:
            calls.append(json.loads(line))
        except ValueError:
            continue
    return calls


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def reckon(day) -> dict:
    stack, script, wechat = day.stack, day.script, day.wechat
    admin = day.staff["admin.shinan"]
    seed = day.seed
    appid_to_account = {a["appid"]: a["id"] for a in seed.records("accounts")}

    # -- what the platform holds ------------------------------------------------------------------------
    requests_all = [r for c in day.communities() for r in admin.all_requests(c)]
    import zhconv

    by_marker: dict[str, list[dict]] = defaultdict(list)
    for r in requests_all:
        for m in MARKER.findall(zhconv.convert(r.get("text") or "", "zh-hans")):
            by_marker[m].append(r)
    by_number = {r["number"]: r for r in requests_all}
    suggestions = admin.call("GET", "/api/v1/suggestions").get("items", [])
    suggestion_markers = Counter(m for s in suggestions
                                 for m in MARKER.findall(zhconv.convert(json.dumps(s, ensure_ascii=False), "zh-hans")))

    # -- what WeChat was asked to do -----------------------------------------------------------------------
    calls = wechat_calls(stack.folder / "wechat-api.jsonl")
    token_appid = {c["response"].get("access_token"): (c.get("body") or {}).get("appid") for c in calls
                   if c["path"] in ("/cgi-bin/stable_token", "/cgi-bin/token") and isinstance(c.get("response"), dict)}
    notices_by_channel: Counter = Counter()
    notice_keys: Counter = Counter()
    follow_ups: dict[str, list[float]] = defaultdict(list)
    posts: Counter = Counter()
    post_modes: Counter = Counter()
    for c in calls:
        ok = isinstance(c.get("response"), dict) and c["response"].get("errcode", 0) == 0
        if not ok:
            continue
        body = c.get("body") or {}
        if c["path"] in CHANNELS:
            notices_by_channel[CHANNELS[c["path"]]] += 1
            content = body.get("text", {}).get("content") if c["path"].endswith("custom/send") else body.get("data")
            notice_keys[(body.get("touser"), json.dumps(content, ensure_ascii=False, sort_keys=True))] += 1
            follow_ups[body.get("touser")].append(_ts(c["time"]))
        elif c["path"] in POST_PATHS:
            appid = token_appid.get((c.get("query") or {}).get("access_token"))
            account = appid_to_account.get(appid, appid or "?")
            posts[(account, c["time"][:10])] += 1
            post_modes[POST_PATHS[c["path"]]] += 1

    # -- the ledger ----------------------------------------------------------------------------------------
    lost, lost_examples = 0, []
    duplicated, dup_examples = 0, []
    outcome: Counter = Counter()
    for intent in script.intents:
        answered = [t for s, t, _ in intent.answers if s == 200]
        replies = [t for t in answered if t and HOLDING not in t]
        held = any(t and HOLDING in t for t in answered)
        if held:
            outcome["held, then followed up"] += 1
        if intent.expects == "none":
            outcome["no answer expected"] += 1
            continue
        if intent.expects == "request":
            found = by_marker.get(intent.marker, []) or [by_number[n] for n in intent.numbers if n in by_number]
            if not found:
                lost += 1
                lost_examples.append(f"#{intent.id} {intent.kind} {intent.text[:30]} answers={intent.answers[:3]}")
            elif len(found) > 1:
                duplicated += len(found) - 1
                dup_examples.append(f"#{intent.id}: {len(found)} requests {[r['number'] for r in found]}")
            if len(intent.numbers) > 1:
                duplicated += len(intent.numbers) - 1
                dup_examples.append(f"#{intent.id}: replies named {sorted(intent.numbers)}")
            outcome["request filed"] += bool(found)
            continue
        if replies:
            outcome["answered"] += 1
        elif any(t >= intent.sent_at - 1 for t in follow_ups.get(intent.resident.openid, [])):
            outcome["followed up"] += 1
        else:
            lost += 1
            lost_examples.append(f"#{intent.id} {intent.kind} {intent.text[:30]} answers={intent.answers[:3]}")
        if intent.kind == "suggestion" and suggestion_markers.get(intent.marker, 0) > 1:
            duplicated += suggestion_markers[intent.marker] - 1
            dup_examples.append(f"#{intent.id}: {suggestion_markers[intent.marker]} suggestions")
    for (touser, content), n in notice_keys.items():
        if n > 1:
            duplicated += n - 1
            dup_examples.append(f"notice x{n} to {touser}: {content[:60]}")
    for (account, date), n in posts.items():
        if n > 1:
            duplicated += n - 1
            dup_examples.append(f"post x{n} for {account} on {date}")

    # -- the day's figures ---------------------------------------------------------------------------------
    categories: dict[str, Counter] = defaultdict(Counter)
    communities: dict[str, Counter] = defaultdict(Counter)
    flags: Counter = Counter()
    states: Counter = Counter()
    for r in requests_all:
        for table, key in ((categories, r.get("category_name") or r["category"]),
                           (communities, r["community_id"] or "微市南 (district)")):
            table[key]["filed"] += 1
            table[key]["routed"] += bool(r.get("team_id") or r.get("department_id"))
            table[key]["completed"] += r["state"] in ("done", "closed")
        states[r["state"]] += 1
        flags.update(r.get("flags") or [])
    sim_filed = Counter()
    for intent in script.intents:
        if intent.expects == "request" and by_marker.get(intent.marker):
            sim_filed[by_marker[intent.marker][0]["community_id"] or "district"] += 1

    messages = [p for p in day.phases if p.messages]
    n_messages = sum(p.messages for p in messages)
    n_deliveries = sum(p.deliveries for p in messages)
    msg_calls: Counter = Counter()
    msg_units = {"rru": 0.0, "wru": 0.0}
    msg_units_by_op: Counter = Counter()
    for p in messages:
        msg_calls.update(p.counts["calls"])
        msg_units_by_op.update(p.counts.get("units_by_op", {}))
        msg_units["rru"] += p.counts["rru"]
        msg_units["wru"] += p.counts["wru"]

    def by_service(counter: Counter, service: str) -> int:
        """Requests that cost per message. Not counted: SQS ReceiveMessage (the laptop pump's polling; in AWS
        the event source mapping's long polls, a fixed cost per queue), GetQueueAttributes and GetQueueUrl
        (the simulator watching the queues; the platform caches its queue URLs)."""
        return sum(v for k, v in counter.items() if k.startswith(service + ".") and k not in NOT_PER_MESSAGE)

    lat = wechat.latencies
    staff_requests = sum(c.requests for c in day.staff.values())
    staff_ms = sum(c.ms for c in day.staff.values())
    # Lambda: every callback delivery, every staff API request, every queue batch (the phases count the
    # pump's batches), and one invocation per job run (its handler's time).
    lambda_invocations = sum(p.lambda_invocations for p in day.phases) + staff_requests + \
        sum(j["runs"] for j in day.jobs.values())
    lambda_ms = sum(p.lambda_ms for p in day.phases) + staff_ms + sum(j["handler_s"] * 1000 for j in day.jobs.values())
    day_calls: Counter = Counter()
    for p in day.phases:
        day_calls.update(p.counts["calls"])
    all_in = {
        "dynamodb": by_service(day_calls, "dynamodb") / max(1, n_messages),
        "sqs": by_service(day_calls, "sqs") / max(1, n_messages),
        "rru": sum(p.counts["rru"] for p in day.phases) / max(1, n_messages),
        "wru": sum(p.counts["wru"] for p in day.phases) / max(1, n_messages),
        "lambda_invocations": lambda_invocations / max(1, n_messages),
        "lambda_gb_s": lambda_ms / 1000 * LAMBDA_MEMORY_GB / max(1, n_messages),
        "api_requests": (n_deliveries + staff_requests) / max(1, n_messages),
    }
    per_message = {
        "dynamodb": by_service(msg_calls, "dynamodb") / max(1, n_messages),
        "sqs": by_service(msg_calls, "sqs") / max(1, n_messages),
        "ssm": by_service(msg_calls, "ssm") / max(1, n_messages),
        "rru": msg_units["rru"] / max(1, n_messages),
        "wru": msg_units["wru"] / max(1, n_messages),
        "lambda_invocations": sum(p.lambda_invocations for p in messages) / max(1, n_messages),
        "lambda_gb_s": sum(p.lambda_ms for p in messages) / 1000 * LAMBDA_MEMORY_GB / max(1, n_messages),
        "sqs_polling": msg_calls.get("sqs.ReceiveMessage", 0) / max(1, n_messages),
        "units_by_operation": {k: round(v / max(1, n_messages), 3) for k, v in sorted(msg_units_by_op.items())},
        "operations": {k: v / max(1, n_messages) for k, v in sorted(msg_calls.items())
                       if k != "faulted" and k not in NOT_PER_MESSAGE},
    }
    jobs = {name: {"runs": j["runs"], "seconds": round(j["seconds"], 2), "queue messages": j["handled"],
                   "invocations": j["invocations"], "dynamodb": by_service(j["calls"], "dynamodb"),
                   "sqs": by_service(j["calls"], "sqs"), "rru": round(j["rru"], 1), "wru": round(j["wru"], 1),
                   "gb_s": round((j["handler_s"] + j["queue_ms"] / 1000) * LAMBDA_MEMORY_GB, 2)}
            for name, j in day.jobs.items()}
    bulletin = check_bulletin(day.bulletin, sim_filed, posts, communities)
    return {
        "options": {"residents": day.opts.residents, "accounts": len(seed.records("accounts")),
                    "faults": day.opts.faults, "month_end": day.opts.month_end, "clock": day.opts.clock},
        "lost": lost, "duplicated": duplicated, "lost_examples": lost_examples[:20],
        "dup_examples": dup_examples[:20],
        "messages": n_messages, "deliveries": n_deliveries,
        "intents_by_kind": dict(Counter(i.kind for i in script.intents)),
        "delivery_modes": dict(Counter(i.delivery for i in script.intents)),
        "voice": sum(i.voice for i in script.intents),
        "traditional": sum(1 for i in script.intents if i.resident.traditional and i.text),
        "outcomes": dict(outcome),
        "delivery_failures": dict(wechat.failures),
        "requests": {"total": len(requests_all), "states": dict(states), "flags": dict(flags),
                     "by_category": {k: dict(v) for k, v in sorted(categories.items())},
                     "by_community": {k: dict(v) for k, v in sorted(communities.items())}},
        "notices_by_channel": dict(notices_by_channel),
        "posts_per_account": {f"{a} {d}": n for (a, d), n in sorted(posts.items())},
        "post_modes": dict(post_modes),
        "latency_ms": {"p50": percentile(lat, 50), "p90": percentile(lat, 90), "p95": percentile(lat, 95),
                       "p99": percentile(lat, 99), "max": max(lat) if lat else 0,
                       "mean": statistics.fmean(lat) if lat else 0, "count": len(lat)},
        "latencies": sorted(lat),
        "per_message": per_message,
        "all_in_per_message": all_in,
        "jobs": jobs,
        "lambda": {"invocations": lambda_invocations, "gb_s": lambda_ms / 1000 * LAMBDA_MEMORY_GB,
                   "staff_api_requests": staff_requests, "staff_api_ms": round(staff_ms)},
        "staff_actions": dict(day.staff_actions),
        "staff_retries": dict(sum((c.retries for c in day.staff.values()), Counter())),
        "faults": {k: dict(v) for k, v in day.faults.items()},
        "events": day.events,
        "phases": [{"name": p.name, "seconds": round(p.seconds, 1), "messages": p.messages,
                    "dynamodb": by_service(Counter(p.counts["calls"]), "dynamodb"),
                    "sqs": by_service(Counter(p.counts["calls"]), "sqs"), "rru": round(p.counts["rru"], 1),
                    "wru": round(p.counts["wru"], 1), "lambda_invocations": p.lambda_invocations,
                    "lambda_ms": round(p.lambda_ms)} for p in day.phases],
        "bulletin": bulletin,
    }


def check_bulletin(bulletin: dict | None, filed: Counter, posts: Counter, communities: dict) -> dict:
    """The bulletin against the simulator's own counts. With the month's draft from before the day
    (`before`), exactly: what the day added to each community's `requests_filed` and each account's
    `posts_sent` must equal what the simulator filed and saw sent. Without it, at least those counts (the
    month holds the seed's earlier days too)."""
    if bulletin is None:
        return {"status": "not run (use --month-end)"}
    if not bulletin.get("available"):
        return {"status": "bulletin: job not available"}
    answer = bulletin.get("answer") or {}
    if "_status" in answer:
        return {"status": f"bulletin: GET /api/v1/bulletins/{bulletin['month']} answered {answer['_status']}"}
    before = bulletin.get("before") or {}
    exact = bool(before.get("rows"))
    earlier = {r.get("community_id"): r for r in before.get("rows", [])}
    sent = Counter()
    for (account, _date), n in posts.items():
        sent[account] += 1
    mismatches = []
    rows = answer.get("rows", [])
    seen = set()
    for row in rows:
        community, account = row.get("community_id"), row.get("account_id")
        seen.add(community)
        base = earlier.get(community, {}) if exact else {}
        for field, want, key in (("requests_filed", filed.get(community, 0), community),
                                 ("posts_sent", sent.get(account, 0), account)):
            if not key:
                continue
            got = row.get(field, 0) - base.get(field, 0)
            if (got != want) if exact else (got < want):
                mismatches.append(f"{key}: bulletin {field} {'grew by ' if exact else ''}{got}, "
                                  f"simulated {want}")
    # Requests 微市南 files for the district itself (no community) are ranked nowhere: only communities count.
    mismatches += [f"{c}: filed {n} but no row in the bulletin" for c, n in filed.items()
                   if n and c not in seen and c != "district"]
    return {"status": "checked", "exact": exact, "rows": len(rows), "mismatches": mismatches,
            "requests_filed": sum(filed.values()), "posts_sent": sum(sent.values()),
            "note": ("the day's growth of each row equals the simulator's own counts" if exact else
                     "at least the simulator's counts (no draft from before the day)")}
