"""Turns the files benches/load.sh leaves in its output dir into results.json and results.md.

usage: load_report.py OUT_DIR CONVERSATIONS SECONDS_PER_RUN CLOCK_TICKS_PER_SECOND
"""

import json
import os
import sys

out, conversations, seconds, ticks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
runs_dir = os.path.join(out, "runs")


def read(path, default=None):
    try:
        with open(path) as f:
            text = f.read()
        return json.loads(text)
    except (OSError, ValueError):
        return default


def oha(name):
    data = read(os.path.join(runs_dir, name + ".json"))
    if data is None:
        return None
    summary, pct = data["summary"], data["latencyPercentiles"]
    codes = data.get("statusCodeDistribution") or {}
    ok = sum(n for code, n in codes.items() if code.startswith("2"))
    return {
        "requests": sum(codes.values()),
        "ok": ok,
        "non_2xx": {code: n for code, n in codes.items() if not code.startswith("2")},
        "rps": ok / summary["total"] if summary["total"] else 0.0,
        "p50_ms": (pct.get("p50") or 0) * 1000,
        "p99_ms": (pct.get("p99") or 0) * 1000,
    }


baseline = read(os.path.join(out, "baseline.json"), {})
runs = []
for file in sorted(os.listdir(runs_dir)):
    if not file.endswith(".server.json"):
        continue
    key = file[: -len(".server.json")]
    name, _, c = key.rpartition("-c")
    server = read(os.path.join(runs_dir, file), {})
    parts = server.get("parts")
    if parts:
        measured = {part: oha(f"{part}-c{c}") for part in parts}
        requests_ok = sum(m["ok"] for m in measured.values() if m)
        row = {
            "scenario": name,
            "concurrency": int(c),
            "rps": sum(m["rps"] for m in measured.values() if m),
            "parts": measured,
        }
    else:
        measured = oha(key)
        if measured is None:
            continue
        requests_ok = measured["ok"]
        row = {"scenario": name, "concurrency": int(c), **measured}
    cpu_seconds = server.get("cpu_ticks", 0) / ticks
    row["server_cpu_ms_per_request"] = 1000 * cpu_seconds / requests_ok if requests_ok else None
    row["server_rss_anon_mb"] = server.get("rss_anon_kb", 0) / 1024
    row["raw_baseline"] = baseline.get(name)
    listeners = read(os.path.join(runs_dir, f"listeners-c{c}.json"))
    if name == "create_message_attached" and listeners:
        row["listeners"] = listeners
    runs.append(row)

order = [
    "get", "list_open_p1", "list_resolved_p400", "meta", "filter_a", "filter_b", "filter_c",
    "filter_d", "filter_e", "search_rare", "search_common", "search_two_chars", "create_message", "create_message_attached",
    "toggle_status", "mixed",
    "isolation_get_alone", "isolation_get_loaded", "isolation_list_alone", "isolation_list_loaded",
]
runs.sort(key=lambda r: (order.index(r["scenario"]) if r["scenario"] in order else 99, r["concurrency"]))


def number(path):
    try:
        with open(path) as f:
            return float(f.read().strip())
    except (OSError, ValueError):
        return None


results = {
    "dataset": {
        "conversations": conversations,
        "db_bytes": number(os.path.join(out, "db-bytes")),
        "index_bytes": number(os.path.join(out, "index-bytes")),
        "generate_seconds": number(os.path.join(out, "generate-seconds")),
    },
    "machine": {"cpus": os.cpu_count()},
    "seconds_per_run": seconds,
    "startup_ms": number(os.path.join(out, "startup-ms")),
    "rss_anon_mb_final": (number(os.path.join(out, "rss-anon-kb-final")) or 0) / 1024,
    "rss_anon_mb_max": max((r["server_rss_anon_mb"] for r in runs), default=None),
    "index_lag": read(os.path.join(out, "lag.json")),
    "heavy_searches": oha("heavy_searches-c4"),
    "runs": runs,
    "raw_baseline": baseline,
}
with open(os.path.join(out, "results.json"), "w") as f:
    json.dump(results, f, indent=2)


def fmt(value, digits=2):
    return "-" if value is None else f"{value:.{digits}f}"


lines = [
    f"Dataset: {conversations:,} conversations; database {fmt((results['dataset']['db_bytes'] or 0) / 2**30)} GiB, "
    f"search index {fmt((results['dataset']['index_bytes'] or 0) / 2**30)} GiB. "
    f"Start-up to first answer: {fmt(results['startup_ms'], 0)} ms. {seconds} s per run.",
    "",
    "| scenario | c | req/s | p50 ms | p99 ms | server CPU ms/req | RssAnon MB | raw p50 ms | raw p99 ms | non-2xx |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
]
for r in runs:
    raw = r.get("raw_baseline") or {}
    if "parts" in r:
        reads, writes = r["parts"].get("mixed_reads") or {}, r["parts"].get("mixed_writes") or {}
        p50 = f"{fmt(reads.get('p50_ms'))} / {fmt(writes.get('p50_ms'))}"
        p99 = f"{fmt(reads.get('p99_ms'))} / {fmt(writes.get('p99_ms'))}"
        errors = {**(reads.get("non_2xx") or {}), **(writes.get("non_2xx") or {})}
        label = "mixed (reads / writes)"
    else:
        p50, p99, errors, label = fmt(r["p50_ms"]), fmt(r["p99_ms"]), r["non_2xx"], r["scenario"]
    lines.append(
        f"| {label} | {r['concurrency']} | {fmt(r['rps'], 0)} | {p50} | {p99} | "
        f"{fmt(r['server_cpu_ms_per_request'], 3)} | {fmt(r['server_rss_anon_mb'], 0)} | "
        f"{fmt(raw.get('p50_ms'), 3)} | {fmt(raw.get('p99_ms'), 3)} | {errors or ''} |"
    )
lines.append("")
for r in runs:
    heard = r.get("listeners")
    if heard:
        created = r["ok"] or 1
        lines.append(
            f"create_message_attached c={r['concurrency']}: {r['ok']} messages created; "
            f"{heard['webhooks']} webhook(s) received {heard['webhook_deliveries']} deliveries "
            f"({heard['webhook_deliveries'] / created:.2f} per message); {heard['subscribers']} /cable subscribers "
            f"received {heard['cable_broadcasts']} broadcasts ({heard['cable_broadcasts'] / created / max(heard['subscribers'], 1):.2f} "
            f"per message each), {heard['subscribers_still_connected']} still connected; the last arrived "
            f"{fmt(heard['drained_ms_after_load'], 0)} ms after the load ended."
        )
lag = results["index_lag"]
if lag:
    lines.append(
        f"Index lag at {lag.get('rate_asked', '-')} messages/s asked ({fmt(lag.get('rate_achieved'), 0)} achieved, "
        f"{lag.get('failed_writes', '-')} failed): p50 {fmt(lag.get('lag_p50_ms'))} ms, p99 {fmt(lag.get('lag_p99_ms'))} ms, "
        f"max {fmt(lag.get('lag_max_ms'))} ms; the writes took p50 {fmt(lag.get('write_p50_ms'))} / p99 {fmt(lag.get('write_p99_ms'))} ms."
    )
lines.append(
    f"Resident anonymous memory: at most {fmt(results['rss_anon_mb_max'], 0)} MB after a run, "
    f"{fmt(results['rss_anon_mb_final'], 0)} MB at the end."
)
with open(os.path.join(out, "results.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
