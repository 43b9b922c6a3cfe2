#!/usr/bin/env bash
# A PostgreSQL node's first seconds under load: how far its search replica falls behind the
# writes while it loads its copy of the conversation summaries, and what searches see meanwhile.
#
#   WOOTLITE_LOAD_DATABASE_URL=postgres://... benches/node_start_under_writes.sh BUILD...
#
# Each BUILD (a wootlite binary) is started in turn, ROUNDS times, on the database that
# benches/load_nodes.sh filled, with node 0's search replica. As soon as it answers its first
# search, 16 connections write messages for 5 s, then 64 connections search a rare word for
# 10 s, while /health's search lag is read every 0.2 s. Prints one row per start.
#
#   WOOTLITE_LOAD_ROUNDS       starts of each build     (default 3)
#   WOOTLITE_LOAD_PORT         the node's port          (default 3995)
#   WOOTLITE_LOAD_CONVERSATIONS  the dataset's size     (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib/servers.sh

database_url=${WOOTLITE_LOAD_DATABASE_URL:?set WOOTLITE_LOAD_DATABASE_URL to the database load_nodes.sh filled}
rounds=${WOOTLITE_LOAD_ROUNDS:-3}
port=${WOOTLITE_LOAD_PORT:-3995}
conversations=${WOOTLITE_LOAD_CONVERSATIONS:-1000000}
[ $# -ge 1 ] || { echo "usage: $0 BUILD..." >&2; exit 2; }
install_oha
work=target/bench-data/nodes-work
out=target/node-start
mkdir -p "$out"
ids=$(id_regex_for "$conversations")
url="http://127.0.0.1:$port"
api="$url/api/v1/accounts/1/conversations"

# The largest search lag /health reports while process $1 runs.
largest_lag() {
    local largest=0 lag
    while kill -0 "$1" 2>/dev/null; do
        lag=$(curl -s -m 2 "$url/health" | python3 -c \
            "import json, sys; print(json.load(sys.stdin)['search']['behind'])" 2>/dev/null || true)
        if [ -n "$lag" ] && [ "$lag" -gt "$largest" ]; then largest=$lag; fi
        sleep 0.2
    done
    echo "$largest"
}

echo "| build | round | summaries loaded in s | largest lag | writes/s | searches/s | search p99 ms | search statuses |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
for round in $(seq 1 "$rounds"); do
    for build in "$@"; do
        token=$("$build" token create --database-url "$database_url" --user 1)
        log="$out/node.log"
        start_server "$url" "$log" env RUST_LOG=wootlite=info "$build" serve \
            --database-url "$database_url" --data-dir "$work/node-0" \
            --files-dir "$work/files" --bind "127.0.0.1:$port"
        until curl -sf -o /dev/null -H "api_access_token: $token" "$api/search?q=quokkaberry"; do
            sleep 0.2
        done
        scenario_request create_message "$api" "$ids"
        "$oha" -z 5s -c 16 --no-tui --output-format json -o "$out/writes.json" \
            -H "api_access_token: $token" "${request[@]}"
        "$oha" -z 10s -c 64 --no-tui --output-format json -o "$out/searches.json" \
            -H "api_access_token: $token" "$api/search?q=quokkaberry" &
        searches=$!
        lag=$(largest_lag "$searches")
        wait "$searches"
        stop_servers
        python3 - "$build" "$round" "$lag" "$out" "$log" <<'PY'
import json, re, sys
build, round_, lag, out, log = sys.argv[1:]
writes = json.load(open(f"{out}/writes.json"))
searches = json.load(open(f"{out}/searches.json"))
loaded = re.findall(r"summaries loaded in ([0-9.]+)s", open(log).read())
print(f"| {build} | {round_} | {loaded[0] if loaded else '?'} | {lag} "
      f"| {writes['summary']['requestsPerSec']:.0f} | {searches['summary']['requestsPerSec']:.0f} "
      f"| {searches['latencyPercentiles']['p99'] * 1000:.0f} | {searches['statusCodeDistribution']} |")
PY
    done
done
