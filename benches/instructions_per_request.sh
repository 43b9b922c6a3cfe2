#!/usr/bin/env bash
# Instructions the server executes per request, for two builds on one dataset: the count does not
# move with the neighbours on a shared machine, so it settles differences of a few percent that
# timings cannot. Needs valgrind (the Debian package of that name).
#
#   benches/instructions_per_request.sh BEFORE_BINARY AFTER_BINARY
#
# Each build serves a fresh copy of the dataset under callgrind. Once it has settled, each
# scenario sends the same requests in the same order, one at a time with curl: a few to warm up,
# then the counted ones, between a zeroing and a dump of callgrind's counters. Writes
# target/instructions-per-request/results.tsv.
#
# Settings (environment):
#   WOOTLITE_INSTR_REQUESTS      requests counted per scenario          (default 200)
#   WOOTLITE_INSTR_SCENARIOS     which scenarios (default: get list_open_p1 list_resolved_p400
#                                meta search_rare create_message)
#   WOOTLITE_LOAD_CONVERSATIONS  dataset size                           (default 1000000)
#   WOOTLITE_LOAD_PORT           port the servers listen on             (default 3999)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib/servers.sh

expect_two_builds "$0" $#
command -v valgrind > /dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
requests=${WOOTLITE_INSTR_REQUESTS:-200}
conversations=${WOOTLITE_LOAD_CONVERSATIONS:-1000000}
port=${WOOTLITE_LOAD_PORT:-3999}
base="http://127.0.0.1:$port"
api="$base/api/v1/accounts/1/conversations"
out=target/instructions-per-request
find_dataset "$conversations"
rm -rf "$out"
mkdir -p "$out"
work=target/bench-data/instructions-work

# curl_config SCENARIO COUNT: a curl config sending COUNT requests of the scenario, the same ones
# for every build (ids from a seeded generator).
curl_config() {
    python3 - "$1" "$2" "$api" "$conversations" "$token" <<'PY'
import random, sys
name, count, api, n, token = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
rng = random.Random(1)
reply = '{\\"content\\":\\"Thanks, the refund is on its way.\\",\\"message_type\\":\\"outgoing\\"}'
for i in range(count):
    conversation = rng.randint(n // 10, n - 1)
    if i:
        print('next')
    print(f'header = "api_access_token: {token}"')
    print('output = "/dev/null"')
    print('silent')
    print('fail')
    paths = {
        "get": f"/{conversation}",
        "list_open_p1": "?status=open&assignee_type=all&page=1",
        "list_resolved_p400": "?status=resolved&assignee_type=all&page=400",
        "meta": "/meta?status=open",
        "search_rare": "/search?q=quokkaberry",
        "create_message": f"/{conversation}/messages",
    }
    print(f'url = "{api}{paths[name]}"')
    if name == "create_message":
        print('header = "Content-Type: application/json"')
        print(f'data = "{reply}"')
PY
}

scenarios=${WOOTLITE_INSTR_SCENARIOS:-"get list_open_p1 list_resolved_p400 meta search_rare create_message"}
: > "$out/results.tsv"
for which in 0 1; do
    build=$([ "$which" = 0 ] && echo "$1" || echo "$2")
    name=$([ "$which" = 0 ] && echo before || echo after)
    rm -rf "$work"
    cp -r "$dataset" "$work"
    token=$("$build" token create --data-dir "$work" --user 1)
    start_server "$base" "$out/$name-server.log" env RUST_LOG=warn valgrind --tool=callgrind \
        --callgrind-out-file="$out/$name.callgrind" "$build" serve --data-dir "$work" --bind "127.0.0.1:$port"
    wait_until_settled "$server_pid"
    dump=0
    for scenario in $scenarios; do
        curl -K <(curl_config "$scenario" 20) --fail-early > /dev/null
        callgrind_control -z "$server_pid" > /dev/null
        curl -K <(curl_config "$scenario" "$requests") --fail-early > /dev/null
        callgrind_control -d "$server_pid" > /dev/null
        dump=$(( dump + 1 ))
        total=$(awk '/^totals:/ { print $2 }' "$out/$name.callgrind.$dump")
        printf '%s\t%s\t%s\n' "$name" "$scenario" "$(( total / requests ))" | tee -a "$out/results.tsv"
    done
    stop_servers
done
rm -rf "$work"

python3 - "$out/results.tsv" <<'PY'
import sys
rows = [line.split("\t") for line in open(sys.argv[1]).read().splitlines() if line]
counts = {(r[0], r[1]): int(r[2]) for r in rows}
for scenario in dict.fromkeys(r[1] for r in rows):
    before, after = counts[("before", scenario)], counts[("after", scenario)]
    print(f"{scenario:20} before {before:>12,} after {after:>12,} instructions/request  after/before {after / before:.3f}")
PY
