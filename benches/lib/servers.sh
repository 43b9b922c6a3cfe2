# Shared by the load scripts (sourced, not run): oha, starting and stopping servers, and reading
# the CPU they and the machine spend.

oha_version=1.16.0
oha=target/tools/bin/oha
install_oha() {
    if ! "$oha" --version 2>/dev/null | grep -q "$oha_version"; then
        cargo install oha --locked --version "$oha_version" --root target/tools
    fi
}

# Every server started with start_server; stop_servers stops them all (also on exit).
server_pids=()
stop_servers() {
    local pid
    for pid in "${server_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    server_pids=()
}
trap stop_servers EXIT

# start_server URL LOG COMMAND...: runs COMMAND in the background until URL/health answers,
# and leaves its pid in $server_pid.
start_server() {
    local url=$1 log=$2
    shift 2
    "$@" > "$log" 2>&1 &
    server_pid=$!
    server_pids+=("$server_pid")
    until curl -sf "$url/health" > /dev/null; do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "the server did not start:" >&2
            cat "$log" >&2
            exit 1
        fi
        sleep 0.005
    done
}

# CPU time of one process in clock ticks (user + system).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# A server that has just answered its first request is still loading (the search index's copy of
# every conversation's summary, about half a second of CPU on the 1M dataset); waits until it
# spends under 2 ticks in a quarter of a second, so that a run does not measure that.
wait_until_settled() {
    local previous now
    previous=$(cpu_ticks "$1")
    while sleep 0.25; do
        now=$(cpu_ticks "$1")
        [ $(( now - previous )) -lt 2 ] && return
        previous=$now
    done
}

# Busy clock ticks of the whole machine (every core), from /proc/stat.
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

# Clock ticks of every PostgreSQL process that is running now (a backend that has exited is
# missing, which is why the nodes keep their pooled connections open).
postgres_ticks() {
    cat /proc/[0-9]*/stat 2>/dev/null | awk '$2 == "(postgres)" { s += $14 + $15 } END { print s + 0 }'
}

# Conversation ids drawn from the generated range, all of one length: 100000-999999 for 1M.
id_regex_for() {
    python3 - "$1" <<'PY'
import sys
n = sys.argv[1]
first, rest = int(n[0]), len(n) - 1
if first > 1:
    print("[1-%d][0-9]{%d}" % (first - 1, rest))
elif rest > 1:
    print("[1-9][0-9]{%d}" % (rest - 1))
else:
    print("[1-9]")
PY
}

# scenario_request NAME API ID_REGEX: sets $request to oha's arguments for one of the plain
# scenarios (returns 1 for any other name).
scenario_request() {
    local name=$1 api=$2 ids=$3
    local reply='{"content":"Thanks, the refund is on its way.","message_type":"outgoing"}'
    case $name in
        get) request=(--rand-regex-url "$api/$ids") ;;
        list_open_p1) request=("$api?status=open&assignee_type=all&page=1") ;;
        list_resolved_p400) request=("$api?status=resolved&assignee_type=all&page=400") ;;
        meta) request=("$api/meta?status=open") ;;
        search_rare) request=("$api/search?q=quokkaberry") ;;
        search_common) request=("$api/search?q=refund") ;;
        search_two_chars) request=("$api/search?q=ka") ;;
        create_message)
            request=(--rand-regex-url -m POST -T application/json -d "$reply" "$api/$ids/messages") ;;
        toggle_status)
            request=(--rand-regex-url -m POST -T application/json -d '{}' "$api/$ids/toggle_status") ;;
        *) return 1 ;;
    esac
}

# The generated dataset of N conversations, in $dataset; exits where it has not been made.
find_dataset() {
    dataset=target/bench-data/dataset-$1-seed1
    if [ ! -e "$dataset/generated" ]; then
        echo "no dataset at $dataset: run benches/load.sh once to generate it" >&2
        exit 1
    fi
}

# expect_two_builds SCRIPT ARGUMENT_COUNT: the comparing scripts take a build before and after.
expect_two_builds() {
    if [ "$2" -ne 2 ]; then
        echo "usage: $1 BEFORE_BINARY AFTER_BINARY" >&2
        exit 2
    fi
}
