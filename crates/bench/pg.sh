# PostgreSQL 15 for the benchmarks, sourced by store.sh and http.sh:
# a throwaway cluster in $work/pg on port 55432, synchronous commit and
# fsync on, with the tables of http/schema.sql.
pgbin=/usr/lib/postgresql/15/bin
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_start() {
  mkdir -p "$work/pg"; chown postgres "$work/pg" 2>/dev/null || true
  as_pg "$pgbin/initdb" -D "$work/pg" -A trust -U postgres >/dev/null
  as_pg "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg/log" -w \
    -o "-p 55432 -k $work/pg -c synchronous_commit=on -c fsync=on -c max_connections=100" start >/dev/null
  as_pg "$pgbin/psql" -h "$work/pg" -p 55432 -U postgres -q -f "$root/crates/bench/http/schema.sql"
}

pg_stop() {
  if [ -f "$work/pg/postmaster.pid" ]; then
    as_pg "$pgbin/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true
  fi
}

# pg_bench LABEL CLIENTS SCRIPT SECONDS: writes $work/LABEL.txt
pg_bench() {
  local label=$1 c=$2 script=$3 secs=$4
  echo "== $label"
  as_pg "$pgbin/pgbench" -h "$work/pg" -p 55432 -U postgres -n -c "$c" -j "$([ "$c" = 1 ] && echo 1 || echo 2)" \
    -T "$secs" -f "$script" postgres 2>/dev/null | tee "$work/$label.txt" | grep -E "latency average|tps"
}
