#!/usr/bin/env bash
# Store benchmark side by side in one run (figures go to BENCHMARKS.md):
# durable appends through the store API (1 and 32 appenders) against raw
# sled, and against PostgreSQL 15 with synchronous commit (pgbench, 1 and
# 32 clients): a plain insert (http/append.sql) and an insert with Pacta's
# own guarantees (http/chained.sql); and the PostgreSQL log backend
# (pacta_store::pg) through its own API, 1 and 32 appenders.
# Needs PostgreSQL 15 (Debian package postgresql-15).
#
#   crates/bench/store.sh [EVENTS] [ROUNDS] [PG_SECONDS]
set -euo pipefail
events=${1:-32000}
rounds=${2:-3}
secs=${3:-15}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/pacta-store-bench.XXXXXX)
chmod 755 "$work"
# shellcheck source=pg.sh
. "$root/crates/bench/pg.sh"
trap 'pg_stop; rm -rf "$work"' EXIT

cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p pacta-bench --bin store
echo "== PostgreSQL 15, synchronous_commit=on ($(nproc) cores)"
pg_start
as_pg "$pgbin/createdb" -h "$work/pg" -p 55432 -U postgres pacta_log
PACTA_BENCH_PG="host=$work/pg port=55432 user=postgres dbname=pacta_log" \
  TMPDIR=$work "$root/target/release/store" "$events" 0 "$rounds" | tee "$work/store.txt"

for c in 1 32; do
  pg_bench "plain-$c" "$c" "$root/crates/bench/http/append.sql" "$secs"
  pg_bench "chained-$c" "$c" "$root/crates/bench/http/chained.sql" "$secs"
done

python3 - "$work" <<'PY'
import re, sys, pathlib
w = pathlib.Path(sys.argv[1])
store = (w / "store.txt").read_text()
one = float(re.search(r"store-1 ([\d.]+)", store).group(1))
many = float(re.search(r"store-32 ([\d.]+)", store).group(1))
pg_one = float(re.search(r"pglog-1 ([\d.]+)", store).group(1))
pg_many = float(re.search(r"pglog-32 ([\d.]+)", store).group(1))
def pg(label):
    t = (w / f"{label}.txt").read_text()
    return float(re.search(r"tps = ([\d.]+)", t).group(1)), float(re.search(r"latency average = ([\d.]+) ms", t).group(1))
print("\nSUMMARY")
print(f"  store API    1 appender   {one:9.0f} events/s   avg {1000 / one:6.3f} ms")
print(f"  store API   32 appenders  {many:9.0f} events/s")
print(f"  PG log API   1 appender   {pg_one:9.0f} events/s   avg {1000 / pg_one:6.3f} ms")
print(f"  PG log API  32 appenders  {pg_many:9.0f} events/s")
for label in ["plain-1", "plain-32", "chained-1", "chained-32"]:
    tps, lat = pg(label)
    print(f"  postgres {label:12} {tps:9.0f} tx/s       avg {lat:6.3f} ms")
print(f"  32 appenders: store / postgres plain   = {many / pg('plain-32')[0]:.2f}x  (bar: >= 2.5x)")
print(f"  32 appenders: store / postgres chained = {many / pg('chained-32')[0]:.2f}x")
print(f"  1 appender:   store / postgres plain   = {one / pg('plain-1')[0]:.2f}x")
print(f"  32 appenders: sled store / PG log      = {many / pg_many:.2f}x  (bar over HTTP: >= 2x)")
print(f"  32 appenders: PG log / postgres chained = {pg_many / pg('chained-32')[0]:.2f}x  (bar over HTTP: >= 5x)")
print(f"  1 appender:   sled store / PG log      = {one / pg_one:.2f}x")
PY
