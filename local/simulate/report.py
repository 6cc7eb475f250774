"""The simulation's report: a few lines in the terminal, and `.local/simulate/report.html` with charts
(Chart.js from the console's vendor folder, copied next to the page: no CDN)."""
from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

from local.stack import ROOT

CHART_JS = ROOT / "chalicelib" / "console" / "vendor" / "chart.umd.min.js"


def terminal(r: dict) -> str:
    pm, lat, req = r["per_message"], r["latency_ms"], r["requests"]
    lines = [
        "",
        f"simulate: one day of {r['options']['accounts']} accounts, {r['options']['residents']} residents"
        f"{', faults on' if r['options']['faults'] else ''} (clock {r['options']['clock']})",
        f"  messages: {r['messages']} intents, {r['deliveries']} deliveries by WeChat (copies and retries "
        f"included); voice {r['voice']}, traditional {r['traditional']}; modes {r['delivery_modes']}",
        f"  outcomes: {r['outcomes']}",
        f"  requests: {req['total']} ({req['states']}); flags {req['flags']}",
        f"  notices by channel: {r['notices_by_channel']}",
        f"  posts: {sum(r['posts_per_account'].values())} sent ({r['post_modes']}) by "
        f"{len(r['posts_per_account'])} account-days",
        f"  staff actions: {r['staff_actions']}",
        f"  callback latency ms: p50 {lat['p50']:.0f}, p90 {lat['p90']:.0f}, p95 {lat['p95']:.0f}, "
        f"p99 {lat['p99']:.0f}, max {lat['max']:.0f} ({lat['count']} deliveries)",
        f"  per message: DynamoDB {pm['dynamodb']:.2f} requests ({pm['rru']:.2f} RRU, {pm['wru']:.2f} WRU), "
        f"SQS {pm['sqs']:.2f}, SSM {pm['ssm']:.3f}, Lambda {pm['lambda_invocations']:.2f} invocations, "
        f"{pm['lambda_gb_s']:.4f} GB-s",
        f"  all-in per message (callbacks, staff, notices, posts, jobs): DynamoDB {r['all_in_per_message']['dynamodb']:.2f} "
        f"({r['all_in_per_message']['rru']:.2f} RRU, {r['all_in_per_message']['wru']:.2f} WRU), SQS "
        f"{r['all_in_per_message']['sqs']:.2f}, Lambda {r['all_in_per_message']['lambda_invocations']:.2f} invocations, "
        f"{r['all_in_per_message']['lambda_gb_s']:.4f} GB-s, API Gateway {r['all_in_per_message']['api_requests']:.2f}",
        "  jobs: " + "; ".join(f"{n}: {j['invocations']} inv, {j['dynamodb']} DDB, {j['sqs']} SQS, "
                               f"{j['seconds']} s" for n, j in r["jobs"].items()),
    ]
    if r["faults"]:
        lines.append(f"  faults injected: {r['faults']}; events: {r['events']}")
        lines.append(f"  staff API retries after a 5xx/429: {r['staff_retries']}; WeChat delivery failures: "
                     f"{r['delivery_failures']}")
    b = r["bulletin"]
    lines.append(f"  {b['status']}" if b["status"] != "checked" else
                 f"  bulletin: {len(b['mismatches'])} mismatch(es) in {b['rows']} rows "
                 f"({'exact: the day added ' if b.get('exact') else 'at least: '}"
                 f"{b.get('requests_filed', 0)} requests, {b.get('posts_sent', 0)} posts)")
    lines.append(f"lost: {r['lost']}")
    lines.append(f"duplicated: {r['duplicated']}")
    for example in r["lost_examples"][:5]:
        lines.append(f"  lost {example}")
    for example in r["dup_examples"][:5]:
        lines.append(f"  duplicated {example}")
    return "\n".join(lines)


def _table(rows: list[list], head: list[str]) -> str:
    out = ["<table><tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in head) + "</tr>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>")
    return "\n".join(out) + "</table>"


def write_html(r: dict, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CHART_JS, folder / "chart.umd.min.js")
    cat = r["requests"]["by_category"]
    com = r["requests"]["by_community"]
    lat = r["latency_ms"]
    ops = r["per_message"]["operations"]
    charts = {
        "category": {"type": "bar", "data": {"labels": list(cat), "datasets": [
            {"label": k, "data": [v.get(k, 0) for v in cat.values()]} for k in ("filed", "routed", "completed")]}},
        "community": {"type": "bar", "data": {"labels": list(com), "datasets": [
            {"label": k, "data": [v.get(k, 0) for v in com.values()]} for k in ("filed", "routed", "completed")]},
            "options": {"indexAxis": "y", "maintainAspectRatio": False}},
        "notices": {"type": "doughnut", "data": {"labels": list(r["notices_by_channel"]), "datasets": [
            {"label": "notices", "data": list(r["notices_by_channel"].values())}]}},
        "posts": {"type": "bar", "data": {"labels": list(r["posts_per_account"]), "datasets": [
            {"label": "posts sent", "data": list(r["posts_per_account"].values())}]}},
        "latency": {"type": "bar", "data": {"labels": ["p50", "p90", "p95", "p99", "max"], "datasets": [
            {"label": "callback latency (ms)", "data": [round(lat[k]) for k in ("p50", "p90", "p95", "p99", "max")]}]}},
        "aws": {"type": "bar", "data": {"labels": list(ops), "datasets": [
            {"label": "requests per resident message", "data": [round(v, 3) for v in ops.values()]}]},
            "options": {"indexAxis": "y"}},
    }
    pm = r["per_message"]
    verdict = "ok" if r["lost"] == 0 and r["duplicated"] == 0 else "bad"
    body = f"""<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">
<title>make simulate — one day of the district</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}} .ok{{color:#060}} .bad{{color:#b00}}
table{{border-collapse:collapse;margin:1em 0}} td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:right}}
.chart{{position:relative;height:360px;margin:1em 0}} .tall{{height:{max(360, 14 * len(com))}px}}</style>
<script src="chart.umd.min.js"></script></head><body>
<h1>One day of the district</h1>
<p>{r['options']['accounts']} accounts, {r['options']['residents']} residents, clock {html.escape(r['options']['clock'])},
faults {'on' if r['options']['faults'] else 'off'}. {r['messages']} resident messages, {r['deliveries']} deliveries by WeChat.</p>
<h2 class="{verdict}">lost: {r['lost']} &nbsp; duplicated: {r['duplicated']}</h2>
<p>Outcomes: {html.escape(json.dumps(r['outcomes'], ensure_ascii=False))}</p>
<p>{html.escape(r['bulletin']['status'])} {html.escape(json.dumps(r['bulletin'].get('mismatches', []), ensure_ascii=False))}</p>
<h2>Requests filed, routed, completed — by category</h2><div class="chart"><canvas id="category"></canvas></div>
<h2>… by community</h2><div class="chart tall"><canvas id="community"></canvas></div>
<h2>Notices sent by channel</h2><div class="chart"><canvas id="notices"></canvas></div>
<h2>Posts sent per account</h2><div class="chart"><canvas id="posts"></canvas></div>
<p>{html.escape(json.dumps(r['post_modes'], ensure_ascii=False))}</p>
<h2>Callback latency</h2><div class="chart"><canvas id="latency"></canvas></div>
<h2>AWS requests per resident message</h2>
<p>DynamoDB {pm['dynamodb']:.2f} ({pm['rru']:.2f} RRU, {pm['wru']:.2f} WRU), SQS {pm['sqs']:.2f}, SSM {pm['ssm']:.3f},
Lambda {pm['lambda_invocations']:.2f} invocations and {pm['lambda_gb_s']:.4f} GB-s per message.</p>
<div class="chart tall"><canvas id="aws"></canvas></div>
<h2>Jobs</h2>
{_table([[n, *j.values()] for n, j in r['jobs'].items()], ['job', *next(iter(r['jobs'].values()), {}).keys()])}
<h2>Phases</h2>
{_table([list(p.values()) for p in r['phases']], list(r['phases'][0].keys()) if r['phases'] else [])}
<h2>Faults injected</h2><pre>{html.escape(json.dumps(r['faults'], ensure_ascii=False, indent=1))}</pre>
<pre>{html.escape(json.dumps({'events': r['events'], 'staff_retries': r['staff_retries'],
                          'delivery_failures': r['delivery_failures'], 'staff_actions': r['staff_actions'],
                          'flags': r['requests']['flags'], 'states': r['requests']['states']},
                         ensure_ascii=False, indent=1))}</pre>
<h2>Examples</h2><pre>{html.escape(chr(10).join(r['lost_examples'] + r['dup_examples']))}</pre>
<script>const charts = {json.dumps(charts, ensure_ascii=False)};
for (const [id, spec] of Object.entries(charts)) {{
  spec.options = Object.assign({{responsive: true, maintainAspectRatio: false}}, spec.options || {{}});
  new Chart(document.getElementById(id), spec);
}}</script></body></html>"""
    path = folder / "report.html"
    path.write_text(body, encoding="utf-8")
    (folder / "report.json").write_text(json.dumps({k: v for k, v in r.items() if k != "latencies"},
                                                   ensure_ascii=False, indent=1), encoding="utf-8")
    return path
