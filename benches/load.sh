#!/usr/bin/env bash
# Load benchmark: the release server on a generated dataset, driven over HTTP by oha.
#
#   benches/load.sh
#
# Installs oha from the Rust package registry into target/tools, builds the release binary,
# generates the dataset once (target/bench-data/dataset-<N>-seed1, shared with `cargo bench`),
# copies it to a scratch data dir (the runs write to it), measures the raw in-process baseline of
# every query, starts the server, and runs each scenario at each concurrency. Writes
# target/load/results.json (machine-readable) and target/load/results.md (a table).
#
# Settings (environment):
#   WOOTLITE_LOAD_CONVERSATIONS  dataset size                     (default 1000000)
#   WOOTLITE_LOAD_SECONDS        seconds per run                   (default 8)
#   WOOTLITE_LOAD_CONCURRENCY    connections per run               (default "1 16 64")
#   WOOTLITE_LOAD_PORT           port the server listens on        (default 3999)
#   WOOTLITE_LOAD_OUT            where results go                  (default target/load)
#   WOOTLITE_LOAD_SCENARIOS      which scenarios                   (default: all of them but
#                                search_two_chars, a search matching nearly every conversation)
#   WOOTLITE_LOAD_EXTRAS         0 skips the mixed, isolation and index lag runs
#   WOOTLITE_LOAD_WEBHOOKS       webhooks subscribed to every event during
#                                create_message_attached      (default 2)
#   WOOTLITE_LOAD_SUBSCRIBERS    /cable subscriptions open during it (default 100)
#   WOOTLITE_LOAD_SERVER         the binary that serves (default target/release/wootlite;
#                                another build gives a before/after pair on the same dataset)
#   WOOTLITE_LOAD_WARMUP         seconds of random gets, not measured, before the first run
#                                (default 10; 0 measures a server that has just started)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib/servers.sh

conversations=${WOOTLITE_LOAD_CONVERSATIONS:-1000000}
seconds=${WOOTLITE_LOAD_SECONDS:-8}
concurrency=${WOOTLITE_LOAD_CONCURRENCY:-"1 16 64"}
port=${WOOTLITE_LOAD_PORT:-3999}
out=${WOOTLITE_LOAD_OUT:-target/load}
server=${WOOTLITE_LOAD_SERVER:-target/release/wootlite}
base="http://127.0.0.1:$port"
api="$base/api/v1/accounts/1/conversations"

install_oha
cargo build --release
cargo bench --bench load_probe --no-run
probe() { cargo bench --quiet --bench load_probe -- "$@"; }

dataset=target/bench-data/dataset-$conversations-seed1
if [ ! -e "$dataset/generated" ]; then
    rm -rf "$dataset"
    started=$(date +%s)
    target/release/wootlite generate --data-dir "$dataset" --conversations "$conversations" --seed 1
    echo "$(( $(date +%s) - started ))" > "$dataset/generate-seconds"
    touch "$dataset/generated"
fi

rm -rf "$out"
mkdir -p "$out/runs"
work=target/bench-data/load-work
rm -rf "$work"
cp -r "$dataset" "$work"
token=$("$server" token create --data-dir "$work" --user 1)

echo "raw baselines (in process, no server)"
probe baseline --data-dir "$work" --out "$out/baseline.json"

# Start-up: from launching the process to its first answer.
started=$(date +%s%N)
# The attached webhooks' receivers listen on loopback, which only this setting lets them use.
start_server "$base" "$out/server.log" env RUST_LOG=warn WOOTLITE_WEBHOOK_ALLOW_PRIVATE=1 \
    "$server" serve --data-dir "$work" --bind "127.0.0.1:$port"
echo "$(( ($(date +%s%N) - started) / 1000000 ))" > "$out/startup-ms"
wait_until_settled "$server_pid"

# Resident anonymous memory in kB.
rss_anon_kb() { awk '/^RssAnon:/ { print $2 }' "/proc/$server_pid/status"; }

# run NAME CONCURRENCY OHA-ARGS...: one timed run, with the server's CPU and memory around it.
run() {
    local name=$1 c=$2
    shift 2
    local file="$out/runs/$name-c$c"
    local before
    before=$(cpu_ticks "$server_pid")
    "$oha" -z "${seconds}s" -c "$c" --no-tui --output-format json -o "$file.json" \
        -H "api_access_token: $token" "$@"
    echo "{\"cpu_ticks\": $(( $(cpu_ticks "$server_pid") - before )), \"rss_anon_kb\": $(rss_anon_kb)}" \
        > "$file.server.json"
    echo "  $name c=$c done"
}

id_regex=$(id_regex_for "$conversations")

filter_body() {
    python3 - "$1" <<'EOF'
import json, sys
shapes = {
    "a": [
        {"attribute_key": "status", "filter_operator": "equal_to", "values": ["open"], "query_operator": "and"},
        {"attribute_key": "inbox_id", "filter_operator": "equal_to", "values": [1], "query_operator": "and"},
        {"attribute_key": "region", "filter_operator": "equal_to", "values": ["North"]},
    ],
    "b": [
        {"attribute_key": "status", "filter_operator": "equal_to", "values": ["open"], "query_operator": "and"},
        {"attribute_key": "escalated", "filter_operator": "equal_to", "values": [True]},
    ],
    "c": [
        {"attribute_key": "labels", "filter_operator": "equal_to", "values": ["billing"], "query_operator": "and"},
        {"attribute_key": "assignee_id", "filter_operator": "equal_to", "values": [2], "query_operator": "and"},
        {"attribute_key": "seats", "filter_operator": "is_greater_than", "values": [100]},
    ],
    "d": [
        {"attribute_key": "status", "filter_operator": "equal_to", "values": ["open"], "query_operator": "and"},
        {"attribute_key": "inbox_id", "filter_operator": "equal_to", "values": [1]},
    ],
    "e": [
        {"attribute_key": "status", "filter_operator": "equal_to", "values": ["open"], "query_operator": "and"},
        {"attribute_key": "inbox_id", "filter_operator": "equal_to", "values": [1], "query_operator": "and"},
        {"attribute_key": "assignee_id", "filter_operator": "equal_to", "values": [27]},
    ],
}
print(json.dumps({"payload": shapes[sys.argv[1]]}))
EOF
}

scenario() {
    local name=$1 c=$2
    if scenario_request "$name" "$api" "$id_regex"; then
        run "$name" "$c" "${request[@]}"
        return
    fi
    case $name in
        filter_a | filter_b | filter_c | filter_d | filter_e)
            run "$name" "$c" -m POST -T application/json -d "$(filter_body "${name#filter_}")" "$api/filter" ;;
        create_message_attached)
            # The same writes with webhooks and live subscribers receiving what they cause.
            local ready="$out/listeners-ready" stop="$out/listeners-stop"
            rm -f "$ready" "$stop"
            probe listeners --url "$base" --token "$token" --webhooks "$webhooks" \
                --subscribers "$subscribers" --ready-file "$ready" --stop-file "$stop" \
                --out "$out/runs/listeners-c$c.json" &
            local listeners_pid=$!
            until [ -e "$ready" ]; do
                kill -0 "$listeners_pid" 2>/dev/null || { echo "the listeners did not start" >&2; exit 1; }
                sleep 0.1
            done
            scenario_request create_message "$api" "$id_regex"
            run "$name" "$c" "${request[@]}"
            touch "$stop"
            wait "$listeners_pid" ;;
    esac
}

scenarios=${WOOTLITE_LOAD_SCENARIOS:-"get list_open_p1 list_resolved_p400 meta filter_a filter_b filter_c filter_d filter_e search_rare search_common create_message create_message_attached toggle_status"}
webhooks=${WOOTLITE_LOAD_WEBHOOKS:-2}
subscribers=${WOOTLITE_LOAD_SUBSCRIBERS:-100}
extras=${WOOTLITE_LOAD_EXTRAS:-1}
# A server that has just started has touched little of the memory-mapped database yet, and its
# first reads pay for mapping each page they touch: the first run would measure that instead of
# the steady state. Random gets touch the rows every scenario reads.
warmup=${WOOTLITE_LOAD_WARMUP:-10}
if [ "$warmup" -gt 0 ]; then
    "$oha" -z "${warmup}s" -c 16 --no-tui --rand-regex-url -H "api_access_token: $token" \
        "$api/$id_regex" > /dev/null
    echo "warmed up: ${warmup}s of random gets"
fi
for c in $concurrency; do
    echo "concurrency $c"
    for name in $scenarios; do
        scenario "$name" "$c"
    done
    [ "$extras" = 0 ] && continue
    # Mixed: reads (gets, list pages, meta, rare searches) from a URL list beside a quarter of
    # the connections posting messages.
    python3 - "$api" "$conversations" > "$out/mixed-urls.txt" <<'EOF'
import random, sys
api, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(1)
for _ in range(5000):
    r = rng.random()
    if r < 0.55:
        print(f"{api}/{rng.randint(1, n)}")
    elif r < 0.80:
        print(f"{api}?status=open&assignee_type=all&page={rng.randint(1, 20)}")
    elif r < 0.95:
        print(f"{api}/meta?status=open")
    else:
        print(f"{api}/search?q=quokkaberry")
EOF
    writers=$(( c / 4 > 0 ? c / 4 : 1 ))
    readers=$(( c - writers > 0 ? c - writers : 1 ))
    before=$(cpu_ticks "$server_pid")
    "$oha" -z "${seconds}s" -c "$writers" --no-tui --output-format json -o "$out/runs/mixed_writes-c$c.json" \
        -H "api_access_token: $token" --rand-regex-url -m POST -T application/json \
        -d '{"content":"A mixed-load reply.","message_type":"outgoing"}' "$api/$id_regex/messages" &
    writer_pid=$!
    "$oha" -z "${seconds}s" -c "$readers" --no-tui --output-format json -o "$out/runs/mixed_reads-c$c.json" \
        -H "api_access_token: $token" --urls-from-file "$out/mixed-urls.txt"
    wait "$writer_pid"
    echo "{\"cpu_ticks\": $(( $(cpu_ticks "$server_pid") - before )), \"rss_anon_kb\": $(rss_anon_kb), \"parts\": [\"mixed_reads\", \"mixed_writes\"]}" \
        > "$out/runs/mixed-c$c.server.json"
    echo "  mixed c=$c done"
done

# Isolation: gets and list pages at c=1 alone, then beside 4 clients searching two characters.
if [ "$extras" != 0 ]; then
    run isolation_get_alone 1 --rand-regex-url "$api/$id_regex"
    run isolation_list_alone 1 "$api?status=open&assignee_type=all&page=1"
    "$oha" -z "$(( seconds * 2 + 4 ))s" -c 4 --no-tui --output-format json -o "$out/runs/heavy_searches-c4.json" \
        -H "api_access_token: $token" "$api/search?q=ka" &
    heavy_pid=$!
    sleep 1
    run isolation_get_loaded 1 --rand-regex-url "$api/$id_regex"
    run isolation_list_loaded 1 "$api?status=open&assignee_type=all&page=1"
    wait "$heavy_pid"

    echo "index lag under 1,000 messages/s"
    probe lag --url "$base" --token "$token" --conversations "$conversations" --rate 1000 --seconds 10 \
        --out "$out/lag.json"
fi
rss_anon_kb > "$out/rss-anon-kb-final"

stop_servers
du -sb "$work/wootlite.sqlite3" | cut -f1 > "$out/db-bytes"
du -sb "$work/search" | cut -f1 > "$out/index-bytes"
cp "$dataset/generate-seconds" "$out/" 2>/dev/null || true
python3 benches/load_report.py "$out" "$conversations" "$seconds" "$(getconf CLK_TCK)"
