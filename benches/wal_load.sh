#!/usr/bin/env bash
# WAL growth under sustained writes beside searches: the release server on a generated data
# dir, 8 connections posting messages and 2 searching at once for a while, the WAL file's size
# sampled throughout. Runs once per WAL target, side by side in one run; a target of 0 is the
# passive-checkpoint-only behaviour (no bound), for comparison.
#
#   benches/wal_load.sh
#
# Settings (environment):
#   WOOTLITE_WAL_CONVERSATIONS  generated conversations           (default 20000)
#   WOOTLITE_WAL_SECONDS        seconds of load per run           (default 45)
#   WOOTLITE_WAL_TARGETS        --wal-target-bytes values to run  (default "0 67108864")
#   WOOTLITE_WAL_WRITERS        writing connections               (default 8)
#   WOOTLITE_WAL_SEARCHERS      searching connections             (default 2)
#   WOOTLITE_WAL_PORT           port                              (default 3998)
#   WOOTLITE_WAL_OUT            where results go                  (default target/wal-load)
set -euo pipefail
cd "$(dirname "$0")/.."

conversations=${WOOTLITE_WAL_CONVERSATIONS:-20000}
seconds=${WOOTLITE_WAL_SECONDS:-45}
targets=${WOOTLITE_WAL_TARGETS:-"0 67108864"}
writers=${WOOTLITE_WAL_WRITERS:-8}
searchers=${WOOTLITE_WAL_SEARCHERS:-2}
port=${WOOTLITE_WAL_PORT:-3998}
out=${WOOTLITE_WAL_OUT:-target/wal-load}
base="http://127.0.0.1:$port"
api="$base/api/v1/accounts/1/conversations"
token=wal-load-token

oha_version=1.16.0
oha=target/tools/bin/oha
if ! "$oha" --version 2>/dev/null | grep -q "$oha_version"; then
    cargo install oha --locked --version "$oha_version" --root target/tools
fi
cargo build --release

dataset=target/bench-data/wal-dataset-$conversations
if [ ! -e "$dataset/generated" ]; then
    rm -rf "$dataset"
    target/release/wootlite generate --data-dir "$dataset" --conversations "$conversations" \
        --seed 1 --bootstrap-token "$token"
    touch "$dataset/generated"
fi
rm -rf "$out"
mkdir -p "$out"

server_pid=
sampler_pid=
stop_all() {
    [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=
    sampler_pid=
}
trap stop_all EXIT

# Ids of the generated conversations, all of the same number of digits.
low=$(( conversations / 10 > 0 ? conversations / 10 : 1 ))
id_regex="[1-9][0-9]{$(( ${#low} - 1 ))}"

for target in $targets; do
    work=target/bench-data/wal-work
    rm -rf "$work"
    cp -r "$dataset" "$work"
    RUST_LOG=warn target/release/wootlite serve --data-dir "$work" --bind "127.0.0.1:$port" \
        --wal-target-bytes "$target" > "$out/server-$target.log" 2>&1 &
    server_pid=$!
    until curl -sf "$base/health" > /dev/null; do sleep 0.05; done
    wal="$work/wootlite.sqlite3-wal"
    ( while true; do stat -c %s "$wal" 2>/dev/null || echo 0; sleep 0.5; done ) > "$out/wal-$target.txt" &
    sampler_pid=$!
    "$oha" -z "${seconds}s" -c "$searchers" --no-tui --output-format json -o "$out/searches-$target.json" \
        -H "api_access_token: $token" "$api/search?q=refund" &
    search_pid=$!
    "$oha" -z "${seconds}s" -c "$writers" --no-tui --output-format json -o "$out/writes-$target.json" \
        -H "api_access_token: $token" --rand-regex-url -m POST -T application/json \
        -d '{"content":"A steady stream of replies.","message_type":"outgoing"}' "$api/$id_regex/messages"
    wait "$search_pid"
    stop_all
    du -b "$work/wootlite.sqlite3" | cut -f1 > "$out/db-bytes-$target"
    echo "  target $target done"
done

python3 - "$out" $targets <<'PY'
import json, sys
out, targets = sys.argv[1], sys.argv[2:]
def mib(b): return f"{b / 2**20:.1f} MiB"
rows = []
for t in targets:
    writes = json.load(open(f"{out}/writes-{t}.json"))
    searches = json.load(open(f"{out}/searches-{t}.json"))
    wal = [int(x) for x in open(f"{out}/wal-{t}.txt").read().split() if x.isdigit()]
    ok = writes["statusCodeDistribution"].get("200", 0)
    seconds = writes["summary"]["total"]
    rows.append({
        "wal_target_bytes": int(t),
        "writes_per_sec": ok / seconds,
        "write_p99_ms": writes["latencyPercentiles"]["p99"] * 1000,
        "search_p50_ms": searches["latencyPercentiles"]["p50"] * 1000,
        "wal_max_bytes": max(wal or [0]),
        "wal_last_bytes": (wal or [0])[-1],
        "db_bytes": int(open(f"{out}/db-bytes-{t}").read()),
        "non_200_writes": sum(v for k, v in writes["statusCodeDistribution"].items() if k != "200"),
    })
json.dump(rows, open(f"{out}/results.json", "w"), indent=2)
lines = ["| --wal-target-bytes | writes/s | write p99 | search p50 | WAL max | WAL at end | database | non-200 writes |",
         "|---|---|---|---|---|---|---|---|"]
for r in rows:
    lines.append(f"| {r['wal_target_bytes']} | {r['writes_per_sec']:.0f} | {r['write_p99_ms']:.1f} ms | "
                 f"{r['search_p50_ms']:.1f} ms | {mib(r['wal_max_bytes'])} | {mib(r['wal_last_bytes'])} | "
                 f"{mib(r['db_bytes'])} | {r['non_200_writes']} |")
open(f"{out}/results.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
