#!/usr/bin/env bash
# Server CPU per request of two builds, side by side on one copy of the dataset, in alternating
# order: on a shared two-core machine throughput moves with the neighbours, and whichever build
# runs second tends to look different, while the CPU a server spends per request is steadier.
#
#   benches/cpu_per_request.sh BEFORE_BINARY AFTER_BINARY
#
# Each round starts a fresh server per build, waits until it has settled (loading the search
# index's copy of the summaries would otherwise land in a timed run), warms it with random gets,
# then times random gets and first pages of the open list with oha, reading the server's CPU
# (user + system, from /proc/PID/stat) around each. Rounds alternate which build goes first.
# Prints one line per run and the medians, and writes them to target/cpu-per-request/results.tsv.
# For differences of a few percent, benches/instructions_per_request.sh counts instead.
#
# Settings (environment):
#   WOOTLITE_CPU_ROUNDS          rounds, each running both builds     (default 4)
#   WOOTLITE_CPU_GETS            gets timed per run                    (default 20000)
#   WOOTLITE_CPU_LISTS           list pages timed per run              (default 4000)
#   WOOTLITE_LOAD_CONVERSATIONS  dataset size                          (default 1000000)
#   WOOTLITE_LOAD_PORT           port the servers listen on            (default 3999)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib/servers.sh

expect_two_builds "$0" $#
builds=("$1" "$2")
names=(before after)
rounds=${WOOTLITE_CPU_ROUNDS:-4}
gets=${WOOTLITE_CPU_GETS:-20000}
lists=${WOOTLITE_CPU_LISTS:-4000}
conversations=${WOOTLITE_LOAD_CONVERSATIONS:-1000000}
port=${WOOTLITE_LOAD_PORT:-3999}
base="http://127.0.0.1:$port"
api="$base/api/v1/accounts/1/conversations"
out=target/cpu-per-request

install_oha
find_dataset "$conversations"
work=target/bench-data/cpu-work
rm -rf "$work"
cp -r "$dataset" "$work"
token=$("${builds[1]}" token create --data-dir "$work" --user 1)
id_regex=$(id_regex_for "$conversations")

# µs of server CPU per request for N requests of oha's remaining arguments.
cpu_per_request() {
    local n=$1
    shift
    local before ticks
    before=$(cpu_ticks "$server_pid")
    "$oha" -n "$n" -c 4 --no-tui -H "api_access_token: $token" "$@" > /dev/null
    ticks=$(( $(cpu_ticks "$server_pid") - before ))
    echo $(( ticks * 1000000 / $(getconf CLK_TCK) / n ))
}

mkdir -p "$out"
: > "$out/results.tsv"
for round in $(seq 1 "$rounds"); do
    order=(0 1)
    [ $(( round % 2 )) -eq 0 ] && order=(1 0)
    for i in "${order[@]}"; do
        start_server "$base" "$out/server.log" env RUST_LOG=warn \
            "${builds[$i]}" serve --data-dir "$work" --bind "127.0.0.1:$port"
        wait_until_settled "$server_pid"
        "$oha" -n 3000 -c 4 --no-tui --rand-regex-url -H "api_access_token: $token" \
            "$api/$id_regex" > /dev/null
        get=$(cpu_per_request "$gets" --rand-regex-url "$api/$id_regex")
        list=$(cpu_per_request "$lists" "$api?status=open&page=1")
        stop_servers
        printf '%s\t%s\t%s\t%s\n' "$round" "${names[$i]}" "$get" "$list" | tee -a "$out/results.tsv"
    done
done

python3 - "$out/results.tsv" <<'EOF'
import statistics, sys
rows = [line.split("\t") for line in open(sys.argv[1]).read().split("\n") if line]
for column, label in ((2, "get"), (3, "list page 1")):
    medians = {}
    for name in ("before", "after"):
        values = sorted(int(r[column]) for r in rows if r[1] == name)
        medians[name] = statistics.median(values)
        print(f"{label:12} {name:6} µs/request {values} median {medians[name]}")
    print(f"{label:12} after/before {medians['after'] / medians['before']:.2f}")
EOF
