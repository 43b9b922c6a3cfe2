#!/usr/bin/env bash
# Substring search on PostgreSQL's pg_trgm, for the choice docs/storage.md §7 makes: the
# generated dataset's searchable messages, folded, in a private PostgreSQL cluster with a GIN
# trigram index, timed for the three search cases the other benchmarks use. Compare its
# figures with the tantivy figures `benches/load.sh` writes to target/load/baseline.json
# (search_rare, search_common, search_two_chars) on the same dataset.
#
#   benches/search_on_postgres.sh
#
# Needs Debian's postgresql and postgresql-contrib packages and the dataset (benches/load.sh or
# `cargo bench` generate it). The cluster lives in a temporary directory, listens on 127.0.0.1
# only, and is removed at the end. Run as root, it runs PostgreSQL as the `postgres` user.
#
# Settings (environment):
#   WOOTLITE_PG_CONVERSATIONS  dataset size                  (default 1000000)
#   WOOTLITE_PG_RUNS           timed runs of each query       (default 20)
#   WOOTLITE_PG_PORT           port the cluster listens on    (default 5499)
set -euo pipefail
cd "$(dirname "$0")/.."

conversations=${WOOTLITE_PG_CONVERSATIONS:-1000000}
runs=${WOOTLITE_PG_RUNS:-20}
port=${WOOTLITE_PG_PORT:-5499}
dataset=target/bench-data/dataset-$conversations-seed1
out=target/search-on-postgres
if [ ! -e "$dataset/generated" ]; then
    echo "no dataset at $dataset: run benches/load.sh first" >&2
    exit 1
fi
. .ci/private-postgres.sh
trap stop_private_postgres EXIT
start_private_postgres "$port" \
    "-c shared_buffers=2GB -c maintenance_work_mem=1GB -c fsync=off"
sql() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U wootlite -d postgres "$@"; }

sql -c "CREATE EXTENSION pg_trgm" \
    -c "CREATE TABLE messages (id bigint, conversation_id bigint, account_id bigint, folded text)"
# Folded with Python's str.lower, which maps as Rust's to_lowercase does but for a final sigma;
# close enough for timing.
started=$(date +%s)
python3 - "$dataset/wootlite.sqlite3" <<'EOF' | sql -c "COPY messages FROM STDIN"
import sqlite3, sys
conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
escape = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
out = sys.stdout
for id, conversation, account, content in conn.execute(
    "SELECT id, conversation_id, account_id, content FROM messages"
    " WHERE message_type IN (0, 1) AND deleted = 0 AND content IS NOT NULL"
):
    out.write(f"{id}\t{conversation}\t{account}\t{content.lower().translate(escape)}\n")
EOF
loaded=$(( $(date +%s) - started ))
started=$(date +%s)
sql -c "CREATE INDEX messages_folded_trgm ON messages USING gin (folded gin_trgm_ops)" -c "ANALYZE messages"
indexed=$(( $(date +%s) - started ))
rows=$(sql -At -c "SELECT count(*) FROM messages")
index_bytes=$(sql -At -c "SELECT pg_relation_size('messages_folded_trgm')")
# Warm the cache as the other benchmarks do (their figures are for a warm page cache).
sql -c "SELECT pg_size_pretty(sum(length(folded))) FROM messages" > /dev/null

rm -rf "$out"
mkdir -p "$out"
{
    echo "$rows searchable messages copied in ${loaded} s; GIN trigram index built in ${indexed} s, $(( index_bytes / 1048576 )) MiB."
    echo
    echo "| case | query | matching | average ms over $runs runs |"
    echo "|---|---|---:|---:|"
} > "$out/results.md"
for case in rare:quokkaberry common:refund two_chars:ka; do
    name=${case%%:*} q=${case#*:}
    for shape in messages conversations; do
        if [ "$shape" = messages ]; then
            query="SELECT count(*) FROM messages WHERE account_id = 1 AND folded LIKE '%$q%'"
        else
            query="SELECT count(DISTINCT conversation_id) FROM messages WHERE account_id = 1 AND folded LIKE '%$q%'"
        fi
        matching=$(sql -At -c "$query")
        echo "$query;" > "$private_postgres_dir/query.sql"
        average=$(pgbench -n -h 127.0.0.1 -p "$port" -U wootlite -c 1 -t "$runs" -f "$private_postgres_dir/query.sql" postgres 2> /dev/null \
            | awk '/latency average/ { print $4 }')
        echo "| $name | $shape containing \"$q\" | $matching | $average |" >> "$out/results.md"
    done
done
cat "$out/results.md"
