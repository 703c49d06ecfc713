#!/usr/bin/env bash
# HTTP benchmarks, side by side in one run (figures go to BENCHMARKS.md):
#   reads  — GET /api/v1/partnerships?valid_on=… and GET /api/v1/partnerships/{id},
#            32 connections, wrk;
#   writes — durable appends through HTTP with 1 and 32 connections (wrk),
#            on the embedded store and on the PostgreSQL backend (`--store`,
#            the same PostgreSQL 15 with synchronous commit), against the
#            same append into a plain PostgreSQL events table and into one
#            with Pacta's guarantees done naively (a head row per append,
#            chained.sql) (pgbench, 1 and 32 clients).
# Needs wrk and PostgreSQL 15 (Debian packages wrk, postgresql-15); run as
# root or as a user who can run the PostgreSQL binaries.
#
#   crates/bench/http.sh [SECONDS]
set -euo pipefail
secs=${1:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/crates/bench/http"
work=$(mktemp -d /tmp/pacta-http-bench.XXXXXX)
chmod 755 "$work"
server=""
# shellcheck source=pg.sh
. "$root/crates/bench/pg.sh"
cleanup() {
  [ -n "$server" ] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  pg_stop
  rm -rf "$work"
}
trap cleanup EXIT

cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin pacta
pacta="$root/target/release/pacta"
data="$work/data"
token=$("$pacta" --data "$data" token add bench --role admin 2>/dev/null)

start_server() { # extra pacta options…
  "$pacta" --data "$data" "$@" serve --listen 127.0.0.1:0 > "$work/serve.out" 2> "$work/serve.err" &
  server=$!
  for _ in $(seq 300); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
  addr=$(sed -n 's|pacta listening on http://||p' "$work/serve.out")
}
make_bench_partnerships() {
for i in $(seq 0 511); do
  curl -sf -o /dev/null -X POST "http://$addr/api/v1/partnerships" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"id\":\"plzensky-kraj--bench-$i\",\"home\":\"plzensky-kraj\",\"partner\":\"bergamo\",\"event\":{\"type\":\"Signed\",\"date\":\"2020-01-15\",\"data\":{\"instrument\":\"memorandum_of_friendship\"}}}"
done
}
start_server
echo "pacta on $addr ($(nproc) cores)"
make_bench_partnerships

run_wrk() { # label, wrk args…
  local label=$1; shift
  echo "== $label"
  wrk --latency "$@" | tee "$work/$label.txt" | grep -E "Requests/sec|Latency  |50%|99%|Non-2xx|requests in"
}
run_wrk read-list -t2 -c32 -d"${secs}s" "http://$addr/api/v1/partnerships?valid_on=2022-02-28"
run_wrk read-one -t2 -c32 -d"${secs}s" "http://$addr/api/v1/partnerships/liberecky-kraj--orenburg-oblast?valid_on=2022-02-28"
TOKEN=$token STREAMS=512 run_wrk append-1 -t1 -c1 -d"${secs}s" -s "$here/append.lua" "http://$addr"
TOKEN=$token STREAMS=512 run_wrk append-32 -t2 -c32 -d"${secs}s" -s "$here/append.lua" "http://$addr"
kill -TERM "$server"; wait "$server" || true; server=""
"$pacta" --data "$data" verify >/dev/null 2>&1 && echo "pacta: chain verified after the run"

echo "== PostgreSQL 15, synchronous_commit=on"
pg_start
as_pg "$pgbin/psql" -h "$work/pg" -p 55432 -U postgres -q -c "CREATE DATABASE pacta"
store="postgresql://postgres@127.0.0.1:55432/pacta"
data="$work/data-pg"
token=$("$pacta" --data "$data" --store "$store" token add bench --role admin 2>/dev/null)
start_server --store "$store"
echo "pacta --store postgresql on $addr"
make_bench_partnerships
TOKEN=$token STREAMS=512 run_wrk pg-append-1 -t1 -c1 -d"${secs}s" -s "$here/append.lua" "http://$addr"
TOKEN=$token STREAMS=512 run_wrk pg-append-32 -t2 -c32 -d"${secs}s" -s "$here/append.lua" "http://$addr"
kill -TERM "$server"; wait "$server" || true; server=""
"$pacta" --data "$data" --store "$store" verify >/dev/null 2>&1 && echo "pacta --store postgresql: chain verified after the run"
for c in 1 32; do
  pg_bench "pgbench-$c" "$c" "$here/append.sql" "$secs"
  pg_bench "chained-$c" "$c" "$here/chained.sql" "$secs"
done

python3 - "$work" <<'PY'
import re, sys, pathlib
w = pathlib.Path(sys.argv[1])
def wrk(name):
    t = (w / f"{name}.txt").read_text()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    def ms(label):
        m = re.search(label + r"\s+([\d.]+)(us|ms|s)", t)
        v = float(m.group(1)); return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    avg = ms(r"Latency"); p50 = ms("50%"); p99 = ms("99%")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    return rps, avg, p50, p99, int(bad.group(1)) if bad else 0
def pg(c):
    t = (w / f"pgbench-{c}.txt").read_text()
    return float(re.search(r"tps = ([\d.]+)", t).group(1)), float(re.search(r"latency average = ([\d.]+) ms", t).group(1))
print("\nSUMMARY")
for n in ["read-list", "read-one", "append-1", "append-32", "pg-append-1", "pg-append-32"]:
    rps, avg, p50, p99, bad = wrk(n)
    print(f"  pacta {n:10} {rps:9.0f} req/s  avg {avg:6.2f} ms  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  non-2xx {bad}")
def chained(c):
    t = (w / f"chained-{c}.txt").read_text()
    return float(re.search(r"tps = ([\d.]+)", t).group(1)), float(re.search(r"latency average = ([\d.]+) ms", t).group(1))
for c in (1, 32):
    tps, lat = pg(c)
    print(f"  postgres plain-{c:<3}   {tps:9.0f} tx/s   avg {lat:6.2f} ms")
    tps, lat = chained(c)
    print(f"  postgres chained-{c:<3} {tps:9.0f} tx/s   avg {lat:6.2f} ms")
a32 = wrk("append-32")[0]; p32 = pg(32)[0]
a1 = wrk("append-1")[1]; p1 = pg(1)[1]
print(f"  appends at 32 clients: pacta/postgres plain = {a32 / p32:.2f}x  (bar: >= 1.0x)")
print(f"  appends at 32 clients: pacta/postgres chained = {a32 / chained(32)[0]:.2f}x")
print(f"  single-client append latency: pacta {a1:.2f} ms vs postgres plain {p1:.2f} ms, chained {chained(1)[1]:.2f} ms  (bar: pacta at or below plain)")
g32 = wrk("pg-append-32")[0]; g1 = wrk("pg-append-1")[1]
print(f"  appends at 32 clients: pacta embedded / pacta on postgres = {a32 / g32:.2f}x  (bar: >= 2x)")
print(f"  appends at 32 clients: pacta on postgres / postgres chained = {g32 / chained(32)[0]:.2f}x  (bar: >= 5x)")
print(f"  single-client append latency: pacta embedded {a1:.2f} ms, pacta on postgres {g1:.2f} ms")
PY
