"""Capacity and cost, projected from a simulation's counted calls (`.local/simulate/report.json`).

    python -m local.simulate.cost [.local/simulate/report.json] [--lambda-ms 100]

Three parts, each scaled by what drives it:
- resident messages: the callback phases' figures per message (DynamoDB units, SQS requests, Lambda
  invocations and GB-seconds, API Gateway requests: WeChat's retries and copies included), times the
  messages a day;
- staff work and the notices it sends: the staff phases' figures per request filed, times the requests a
  day (the run's share of messages that became requests);
- jobs: daily-post, post-reminder and daily-stats per account and run, times the accounts and the runs a
  day; sla-sweep (96 runs a day) and outbox-redrive (144) per run.
Then 30 days, and the prices below. Storage, CloudWatch Logs and data transfer are not in it.

Lambda's GB-seconds come from the laptop's measured durations (at 512 MB): an upper bound, as one shared
moto answers one request at a time. `--lambda-ms N` takes N ms per invocation instead.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# Prices, on-demand, per million (units or requests) or per GB-second.
PRICES = {
    "global (us-east-1, US$)": {"wru": 0.625, "rru": 0.125, "sqs": 0.40, "lambda_req": 0.20,
                                "gb_s": 0.0000166667, "apigw": 3.50},
    # DynamoDB's write price is amazonaws.cn's (China (Beijing) and (Ningxia), on-demand); the read price is
    # taken at a fifth of it, the ratio of the same page's provisioned prices. The Lambda, SQS and API
    # Gateway figures are the Beijing region's list prices as we know them: check amazonaws.cn/pricing.
    "aws-cn (cn-north-1, CNY)": {"wru": 11.1538, "rru": 2.2308, "sqs": 3.33, "lambda_req": 1.36,
                                 "gb_s": 0.000113477, "apigw": 28.90},
}
SCALES = {"seed scale: 66 accounts, ~65,000 followers": (66, 100_000),
          "10,000 accounts (messages in proportion)": (10_000, round(100_000 * 10_000 / 66))}
RUNS_PER_DAY = {"daily-post": 3, "post-reminder": 1, "daily-stats": 1, "sla-sweep": 96, "outbox-redrive": 144,
                "monthly-bulletin": 1 / 30}
PER_ACCOUNT_JOBS = {"daily-post", "post-reminder", "daily-stats", "monthly-bulletin"}
STAFF_PHASES = ("staff:",)


def unit_figures(report: dict, lambda_ms: float | None = None) -> dict:
    """What one message, one request's staff work and one job run cost, from the report."""
    accounts = report["options"]["accounts"]
    pm = report["per_message"]
    message = {"rru": pm["rru"], "wru": pm["wru"], "sqs": pm["sqs"], "lambda_req": pm["lambda_invocations"],
               "gb_s": pm["lambda_gb_s"], "apigw": report["deliveries"] / max(1, report["messages"])}
    staff = [p for p in report["phases"] if p["name"].startswith(STAFF_PHASES)]
    requests = max(1, report["requests"]["total"])
    staff_api = report["lambda"]["staff_api_requests"]
    notices = sum(p.get("lambda_invocations", 0) for p in staff)  # the pumps' batches in the staff phases
    lambda_s = (report["lambda"].get("staff_api_ms", 0) + sum(p.get("lambda_ms", 0) for p in staff)) / 1000
    per_request = {"rru": sum(p["rru"] for p in staff) / requests, "wru": sum(p["wru"] for p in staff) / requests,
                   "sqs": sum(p["sqs"] for p in staff) / requests, "lambda_req": (staff_api + notices) / requests,
                   "gb_s": lambda_s * 0.5 / requests, "apigw": staff_api / requests}
    jobs = {}
    for name, j in report["jobs"].items():
        per = accounts if name in PER_ACCOUNT_JOBS else 1
        runs = max(1, j["runs"])
        jobs[name] = {"rru": j["rru"] / runs / per, "wru": j["wru"] / runs / per, "sqs": j["sqs"] / runs / per,
                      "lambda_req": j["invocations"] / runs / per, "gb_s": j["gb_s"] / runs / per, "apigw": 0.0,
                      "per_account": name in PER_ACCOUNT_JOBS}
    if lambda_ms is not None:
        for figures in (message, per_request, *jobs.values()):
            figures["gb_s"] = figures["lambda_req"] * lambda_ms / 1000 * 0.5
    return {"message": message, "request": per_request, "requests_per_message": requests / max(1, report["messages"]),
            "jobs": jobs}



def project(report: dict, lambda_ms: float | None = None) -> str:
    units = unit_figures(report, lambda_ms)
    lines = ["Unit figures from the run" + (f" (Lambda: {lambda_ms:g} ms per invocation at 512 MB)" if lambda_ms
                                            else " (Lambda: the laptop's measured durations at 512 MB)") + ":"]
    def fmt(figures: dict) -> str:
        return ", ".join(f"{k} {v:.4g}" for k, v in figures.items() if k != "per_account")

    lines.append(f"  per resident message: {fmt(units['message'])}")
    lines.append(f"  per request (staff work and its notices): {fmt(units['request'])}; "
                 f"{units['requests_per_message']:.3f} requests per message")
    for name, j in units["jobs"].items():
        lines.append(f"  {name} per run{' and account' if j['per_account'] else ''}: {fmt(j)}")
    for scale, (accounts, messages) in SCALES.items():
        month = {k: 0.0 for k in units["message"]}
        for k in month:
            month[k] += 30 * messages * units["message"][k]
            month[k] += 30 * messages * units["requests_per_message"] * units["request"][k]
            for name, j in units["jobs"].items():
                month[k] += 30 * RUNS_PER_DAY.get(name, 1) * j[k] * (accounts if j["per_account"] else 1)
        lines.append(f"\n{scale}: {messages:,} messages a day; a month (30 days):")
        lines.append(f"  DynamoDB {month['rru'] / 1e6:,.1f} M read units, {month['wru'] / 1e6:,.1f} M write units; "
                     f"SQS {month['sqs'] / 1e6:,.2f} M requests; Lambda {month['lambda_req'] / 1e6:,.2f} M invocations, "
                     f"{month['gb_s']:,.0f} GB-s; API Gateway {month['apigw'] / 1e6:,.2f} M requests")
        for region, price in PRICES.items():
            parts = {k: month[k] / (1 if k == "gb_s" else 1e6) * price[k] for k in price}
            arithmetic = " + ".join(
                f"{month[k] / (1 if k == 'gb_s' else 1e6):,.2f}{'' if k == 'gb_s' else ' M'} {k} x {price[k]}"
                for k in price)
            lines.append(f"  {region}: {arithmetic} = {sum(parts.values()):,.2f}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.simulate.cost")
    parser.add_argument("report", nargs="?", default=".local/simulate/report.json")
    parser.add_argument("--lambda-ms", type=float, default=None)
    args = parser.parse_args(argv)
    print(project(json.loads(Path(args.report).read_text(encoding="utf-8")), args.lambda_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
