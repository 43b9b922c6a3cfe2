#!/usr/bin/env bash
# What a write costs a PostgreSQL node and PostgreSQL itself, build beside build: CPU per
# request of the node's process and of PostgreSQL's processes, with nobody subscribed to /cable.
#
#   WOOTLITE_LOAD_DATABASE_URL=postgres://... benches/write_cost_nodes.sh BUILD...
#
# Each BUILD (a wootlite binary) is started in turn, ROUNDS times, on the database that
# benches/load_nodes.sh filled, with node 0's search replica; once its search answers and it has
# settled, 16 connections create messages, then toggle statuses, for SECONDS each. Prints one row
# per build, round and scenario.
#
#   WOOTLITE_LOAD_ROUNDS         rounds of all builds     (default 2)
#   WOOTLITE_LOAD_SECONDS        seconds per scenario     (default 8)
#   WOOTLITE_LOAD_PORT           the node's port          (default 3997)
#   WOOTLITE_LOAD_CONVERSATIONS  the dataset's size       (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib/servers.sh

database_url=${WOOTLITE_LOAD_DATABASE_URL:?set WOOTLITE_LOAD_DATABASE_URL to the database load_nodes.sh filled}
rounds=${WOOTLITE_LOAD_ROUNDS:-2}
seconds=${WOOTLITE_LOAD_SECONDS:-8}
port=${WOOTLITE_LOAD_PORT:-3997}
conversations=${WOOTLITE_LOAD_CONVERSATIONS:-1000000}
[ $# -ge 1 ] || { echo "usage: $0 BUILD..." >&2; exit 2; }
install_oha
work=target/bench-data/nodes-work
out=target/write-cost
mkdir -p "$out"
ids=$(id_regex_for "$conversations")
url="http://127.0.0.1:$port"
api="$url/api/v1/accounts/1/conversations"

echo "| build | round | scenario | requests/s | node ms CPU/request | PostgreSQL ms CPU/request | statuses |"
echo "| --- | ---: | --- | ---: | ---: | ---: | --- |"
for round in $(seq 1 "$rounds"); do
    for build in "$@"; do
        token=$("$build" token create --database-url "$database_url" --user 1)
        start_server "$url" "$out/node.log" env RUST_LOG=warn "$build" serve \
            --database-url "$database_url" --data-dir "$work/node-0" \
            --files-dir "$work/files" --bind "127.0.0.1:$port"
        until curl -sf -o /dev/null -H "api_access_token: $token" "$api/search?q=quokkaberry"; do
            sleep 0.2
        done
        wait_until_settled "$server_pid"
        for scenario in create_message toggle_status; do
            scenario_request "$scenario" "$api" "$ids"
            node_before=$(cpu_ticks "$server_pid")
            postgres_before=$(postgres_ticks)
            "$oha" -z "${seconds}s" -c 16 --no-tui --output-format json -o "$out/run.json" \
                -H "api_access_token: $token" "${request[@]}"
            node_ticks=$(( $(cpu_ticks "$server_pid") - node_before ))
            postgres=$(( $(postgres_ticks) - postgres_before ))
            python3 - "$build" "$round" "$scenario" "$node_ticks" "$postgres" "$out/run.json" <<'PY'
import json, os, sys
build, round_, scenario, node, postgres, run = sys.argv[1:]
summary = json.load(open(run))
statuses = summary["statusCodeDistribution"]
ok = sum(n for status, n in statuses.items() if status.startswith("2")) or 1
tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
print(f"| {build} | {round_} | {scenario} | {summary['summary']['requestsPerSec']:.0f} "
      f"| {int(node) * tick_ms / ok:.2f} | {int(postgres) * tick_ms / ok:.2f} | {statuses} |")
PY
        done
        stop_servers
    done
done
