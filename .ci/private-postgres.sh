# Sourced by .ci/run and benches/search_on_postgres.sh. `start_private_postgres PORT [OPTIONS]`
# starts a throwaway PostgreSQL cluster from Debian's packages in a temporary directory,
# listening only on 127.0.0.1:PORT, with a user `wootlite` that needs no password and the
# server's extra OPTIONS (`-c name=value ...`); `stop_private_postgres` stops and removes it.
# Run as root, the server runs as the `postgres` user the package creates: initdb refuses root.

private_postgres_bin=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1)
private_postgres_dir=

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_private_postgres() {
    local port=$1 options=${2:-}
    if [ -z "$private_postgres_bin" ]; then
        echo "PostgreSQL is not installed (Debian: apt-get install postgresql)" >&2
        return 1
    fi
    private_postgres_dir=$(mktemp -d)
    if [ "$(id -u)" = 0 ]; then chown postgres "$private_postgres_dir"; fi
    as_postgres "$private_postgres_bin/initdb" -D "$private_postgres_dir/data" -A trust -U wootlite \
        -E UTF8 --locale=C.UTF-8 --no-sync > /dev/null
    as_postgres "$private_postgres_bin/pg_ctl" -D "$private_postgres_dir/data" -l "$private_postgres_dir/log" \
        -w start -o "-p $port -k $private_postgres_dir -c listen_addresses=127.0.0.1 $options" > /dev/null
}

stop_private_postgres() {
    if [ -n "$private_postgres_dir" ]; then
        as_postgres "$private_postgres_bin/pg_ctl" -D "$private_postgres_dir/data" -m immediate stop \
            > /dev/null 2>&1 || true
        rm -rf "$private_postgres_dir"
        private_postgres_dir=
    fi
}
