#!/usr/bin/env bash
# The load script's main scenarios on SQLite, on PostgreSQL with one node and on PostgreSQL with
# two nodes, side by side on one generated dataset.
#
#   WOOTLITE_LOAD_DATABASE_URL=postgres://USER@127.0.0.1:PORT/DB benches/load_nodes.sh
#
# The database must be empty: the script copies the generated data dir into it once with
# `wootlite migrate` (and notes that it did in target/bench-data, so a later run reuses it).
# Each PostgreSQL node's search replica is built once (both at once, before any run) and kept in
# target/bench-data/nodes-work. Each setup gets fresh nodes, warmed with random gets and settled;
# two nodes each take half the connections of a run, as behind a load balancer. Around each run
# it reads the CPU of the nodes, of PostgreSQL's processes and of the whole machine (oha
# included). Writes
# target/load-nodes/results.tsv and results.md.
#
# Settings (environment):
#   WOOTLITE_LOAD_DATABASE_URL   the PostgreSQL database (required)
#   WOOTLITE_LOAD_CONVERSATIONS  dataset size                          (default 1000000)
#   WOOTLITE_LOAD_SECONDS        seconds per run                        (default 5)
#   WOOTLITE_LOAD_CONCURRENCY    connections per run, all nodes together (default "16 64")
#   WOOTLITE_LOAD_SCENARIOS      which scenarios (default: get list_open_p1 list_resolved_p400
#                                meta search_rare create_message toggle_status)
#   WOOTLITE_LOAD_SETUPS         which setups (default "sqlite postgres_1 postgres_2")
#   WOOTLITE_LOAD_PORT           the first node's port; the second takes the next (default 3999)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib/servers.sh

database_url=${WOOTLITE_LOAD_DATABASE_URL:?set WOOTLITE_LOAD_DATABASE_URL to an empty PostgreSQL database}
conversations=${WOOTLITE_LOAD_CONVERSATIONS:-1000000}
seconds=${WOOTLITE_LOAD_SECONDS:-5}
concurrency=${WOOTLITE_LOAD_CONCURRENCY:-"16 64"}
scenarios=${WOOTLITE_LOAD_SCENARIOS:-"get list_open_p1 list_resolved_p400 meta search_rare create_message toggle_status"}
setups=${WOOTLITE_LOAD_SETUPS:-"sqlite postgres_1 postgres_2"}
port=${WOOTLITE_LOAD_PORT:-3999}
out=target/load-nodes
server=target/release/wootlite

install_oha
cargo build --release
find_dataset "$conversations"
work=target/bench-data/nodes-work
# The nodes' search replicas are kept: one that fell behind what PostgreSQL keeps rebuilds itself.
rm -rf "$out" "$work/sqlite"
mkdir -p "$out/runs" "$work"

# The copy in PostgreSQL is made once per database and dataset.
copied=target/bench-data/copied-to-postgres
if [ "$(cat "$copied" 2>/dev/null)" != "$database_url $dataset" ]; then
    started=$(date +%s)
    "$server" migrate --from-data-dir "$dataset" --to-database-url "$database_url" \
        --files-dir "$work/files" | tail -1
    echo "$database_url $dataset" > "$copied"
    echo "copied into PostgreSQL in $(( $(date +%s) - started ))s"
fi
ids=$(id_regex_for "$conversations")

# A node answers searches once its search replica holds what the database holds: built from the
# database at a node's first start (minutes for 10M messages), and kept in its data dir.
# Gives up after an hour, or as soon as the node has exited.
wait_for_search() {
    local url=$1 pid=$2 waited=0
    until curl -sf -o /dev/null -H "api_access_token: $token" \
        "$url/api/v1/accounts/1/conversations/search?q=quokkaberry"; do
        if ! kill -0 "$pid" 2>/dev/null || [ "$waited" -ge 3600 ]; then
            echo "the node at $url never answered a search" >&2
            exit 1
        fi
        sleep 1
        waited=$(( waited + 1 ))
    done
}
clk_tck=$(getconf CLK_TCK)

# start_nodes SETUP: the setup's nodes, in $nodes (their base URLs) and $node_pids.
start_nodes() {
    local setup=$1 count=1 i url
    nodes=()
    node_pids=()
    case $setup in
        sqlite)
            rm -rf "$work/sqlite"
            cp -r "$dataset" "$work/sqlite"
            token=$("$server" token create --data-dir "$work/sqlite" --user 1)
            start_server "http://127.0.0.1:$port" "$out/$setup-node-0.log" env RUST_LOG=warn \
                "$server" serve --data-dir "$work/sqlite" --bind "127.0.0.1:$port"
            nodes=("http://127.0.0.1:$port")
            node_pids=("$server_pid") ;;
        postgres_*)
            count=${setup#postgres_}
            token=$("$server" token create --database-url "$database_url" --user 1)
            for i in $(seq 0 $(( count - 1 ))); do
                url="http://127.0.0.1:$(( port + i ))"
                start_server "$url" "$out/$setup-node-$i.log" env RUST_LOG=warn \
                    "$server" serve --database-url "$database_url" --data-dir "$work/node-$i" \
                    --files-dir "$work/files" --bind "127.0.0.1:$(( port + i ))"
                nodes+=("$url")
                node_pids+=("$server_pid")
            done ;;
    esac
    for i in "${!node_pids[@]}"; do
        wait_for_search "${nodes[$i]}" "${node_pids[$i]}"
        wait_until_settled "${node_pids[$i]}"
    done
}

nodes_ticks() {
    local pid sum=0
    for pid in "${node_pids[@]}"; do
        sum=$(( sum + $(cpu_ticks "$pid") ))
    done
    echo "$sum"
}

# run SETUP NAME C: one timed run, the connections split evenly over the nodes.
run() {
    local setup=$1 name=$2 c=$3 i per_node pids=() node0 pg0 machine0
    per_node=$(( c / ${#nodes[@]} ))
    node0=$(nodes_ticks); pg0=$(postgres_ticks); machine0=$(machine_ticks)
    for i in "${!nodes[@]}"; do
        scenario_request "$name" "${nodes[$i]}/api/v1/accounts/1/conversations" "$ids"
        "$oha" -z "${seconds}s" -c "$per_node" --no-tui --output-format json \
            -o "$out/runs/$setup-$name-c$c-node$i.json" -H "api_access_token: $token" "${request[@]}" &
        pids+=($!)
    done
    wait "${pids[@]}"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$setup" "$name" "$c" "$(( $(nodes_ticks) - node0 ))" \
        "$(( $(postgres_ticks) - pg0 ))" "$(( $(machine_ticks) - machine0 ))" >> "$out/ticks.tsv"
    echo "  $setup $name c=$c done"
}

: > "$out/ticks.tsv"
# Both nodes' replicas are built at once before any run, and kept by the setups after.
if [[ " $setups " == *" postgres_2 "* ]]; then
    started=$(date +%s)
    start_nodes postgres_2
    stop_servers
    echo "two search replicas built from PostgreSQL in $(( $(date +%s) - started ))s"
fi
for setup in $setups; do
    echo "$setup"
    start_nodes "$setup"
    # Random gets bring the rows into the caches (PostgreSQL's as well), and give a node time to
    # load its copy of the summaries, which on PostgreSQL waits on the database before it spends
    # CPU (so the node can look settled before it has loaded them).
    for i in "${!nodes[@]}"; do
        "$oha" -z 15s -c 8 --no-tui --rand-regex-url -H "api_access_token: $token" \
            "${nodes[$i]}/api/v1/accounts/1/conversations/$ids" > /dev/null
        wait_until_settled "${node_pids[$i]}"
    done
    for c in $concurrency; do
        for name in $scenarios; do
            run "$setup" "$name" "$c"
        done
    done
    stop_servers
done

python3 - "$out" "$clk_tck" <<'PY'
import glob, json, statistics, sys
out, hz = sys.argv[1], int(sys.argv[2])
rows = []
for line in open(f"{out}/ticks.tsv").read().splitlines():
    setup, name, c, node, pg, machine = line.split("\t")
    runs = [json.load(open(f)) for f in sorted(glob.glob(f"{out}/runs/{setup}-{name}-c{c}-node*.json"))]
    ok = sum(sum(v for k, v in r["statusCodeDistribution"].items() if k.startswith("2")) for r in runs)
    bad = sum(sum(v for k, v in r["statusCodeDistribution"].items() if not k.startswith("2")) for r in runs)
    # Requests still in flight when a run's time is up are counted apart, as aborted.
    bad += sum(sum(v for k, v in r.get("errorDistribution", {}).items() if "deadline" not in k) for r in runs)
    rps = ok / max(r["summary"]["total"] for r in runs)
    # A run with no answer at all (every request timed out) has no percentiles.
    p50s = [r["latencyPercentiles"]["p50"] or float("nan") for r in runs]
    p50 = statistics.mean(p50s) * 1000
    p99 = max(r["latencyPercentiles"]["p99"] or float("nan") for r in runs) * 1000
    per = lambda ticks: int(ticks) * 1000 / hz / max(ok, 1)
    rows.append((setup, name, c, rps, p50, p99, per(node), per(pg), per(machine), bad))
with open(f"{out}/results.tsv", "w") as f:
    f.write("setup\tscenario\tc\treq_per_s\tp50_ms\tp99_ms\tnode_cpu_ms\tpostgres_cpu_ms\tmachine_cpu_ms\tfailed\n")
    for r in rows:
        f.write("%s\t%s\t%s\t%.0f\t%.2f\t%.2f\t%.3f\t%.3f\t%.3f\t%d\n" % r)
with open(f"{out}/results.md", "w") as f:
    f.write("| setup | scenario | c | req/s | p50 ms | p99 ms | node CPU ms/req | PostgreSQL CPU ms/req | machine CPU ms/req | failed |\n")
    f.write("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
    for r in rows:
        f.write("| %s | %s | %s | %.0f | %.2f | %.2f | %.3f | %.3f | %.3f | %d |\n" % r)
print(open(f"{out}/results.md").read())
PY
