#!/usr/bin/env bash
# The settlement benchmark: `settle run`, the reference DuckDB pipeline and the I/O floor on
# the same generated months and the same two cores, each timed (wall time) and measured (peak
# resident memory), the job's files checked against DuckDB's, a table printed and appended to
# bench/RESULTS.md with the date, the machine and the commit.
#
#   bench/run.sh [ORDERS...]           months of these sizes (default: 1000000 10000000)
#   bench/run.sh --check [ORDERS...]   CI: one small month (default 20000) with the debug binary
#                                      CI already built; only checks that the job's files equal
#                                      DuckDB's, and says SKIPPED where DuckDB cannot be had
#
# Environment: BENCH_REPEAT (default 3) runs of each program per size, the median wall time
# reported; SETTLE_BIN to use another settle binary; CARGO_TARGET_DIR as for cargo. Months are
# generated once into bench/data/ORDERS/ (seeded, so the same every time) and reused.
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
if [ "${1:-}" = "--check" ]; then
  check=true
  shift
fi
target="${CARGO_TARGET_DIR:-target}"
month=2016-03
seed=20160301
repeat="${BENCH_REPEAT:-3}"
threads=2
export POLARS_MAX_THREADS=$threads

# DuckDB is the reference; fresh machines get it from PyPI.
have_duckdb() { python3 -c 'import duckdb' 2>/dev/null; }
if ! have_duckdb; then
  echo "installing duckdb for python3 (pip)" >&2
  python3 -m pip install --quiet duckdb 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages duckdb 2>/dev/null || true
fi
if ! have_duckdb; then
  if $check; then
    echo "SKIPPED: duckdb cannot be imported or installed for python3, so the job's files are" \
      "not compared with DuckDB's"
    exit 0
  fi
  echo "error: the benchmark needs duckdb for python3 (pip install duckdb)" >&2
  exit 1
fi

if $check; then
  sizes=("${@:-20000}")
  settle="${SETTLE_BIN:-$target/debug/settle}"
  [ -x "$settle" ] || { echo "error: no settle binary at $settle (run cargo test first)" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
else
  sizes=("${@:-1000000}")
  [ $# -gt 0 ] || sizes=(1000000 10000000)
  cargo build --release --locked --bin settle --example io_floor
  settle="${SETTLE_BIN:-$target/release/settle}"
  floor="$target/release/examples/io_floor"
  work=bench/data
fi
# Two cores where the machine has more.
pin=()
if [ "$(nproc)" -gt $threads ] && command -v taskset >/dev/null; then
  pin=(taskset -c "0-$((threads - 1))")
fi

# measure NAME COMMAND...: runs the command, keeps its wall time (s) and peak memory (MiB):
# the largest resident set of the command, as the kernel reports it for a waited-for child
# (what `/usr/bin/time -f %M` reports, without needing that package).
measure() {
  local name=$1
  shift
  python3 -c '
import resource, subprocess, sys, time
started = time.monotonic()
code = subprocess.call(sys.argv[2:])
wall = time.monotonic() - started
with open(sys.argv[1], "w") as out:
    out.write(f"{wall:.2f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\n")
sys.exit(code)
' "$work/time.$name" "${pin[@]}" "$@" >"$work/log.$name" 2>&1 ||
    { echo "error: $name failed:" >&2; cat "$work/log.$name" >&2; exit 1; }
  read -r wall kib <"$work/time.$name"
  echo "$wall $((kib / 1024))"
}

# median of the first fields of lines "WALL MIB", with the largest MIB.
median() {
  sort -n | awk '{ wall[NR] = $1; if ($2 > mib) mib = $2 } END { print wall[int((NR + 1) / 2)], mib }'
}

rows=()
for orders in "${sizes[@]}"; do
  data="$work/$orders"
  if [ ! -f "$data/.complete-$seed" ]; then
    rm -rf "$data"
    mkdir -p "$data"
    echo "generating $orders orders" >&2
    start=$(date +%s.%N)
    "$settle" generate --bulk "$orders" --month $month --seed $seed --out "$data" --log-level warn
    awk -v start="$start" -v end="$(date +%s.%N)" 'BEGIN { printf "generated in %.1f s\n", end - start }' >&2
    touch "$data/.complete-$seed"
  fi
  input="$data/$month"

  if $check; then
    rm -rf "$work/ledger" "$work/duckdb"
    mkdir -p "$work/duckdb"
    "$settle" run --month $month --orders "$input/orders.parquet" --claims "$input/claims.parquet" \
      --ledger "$work/ledger" --log-level warn
    python3 ../shared/bench/duckdb_settle.py "$input/orders.parquet" "$input/claims.parquet" \
      "$work/duckdb" $month $threads >/dev/null
    python3 bench/compare.py "$work/ledger/$month/v1" "$work/duckdb"
    continue
  fi

  : >"$work/runs.settle"; : >"$work/runs.duckdb"; : >"$work/runs.floor"
  for _ in $(seq "$repeat"); do
    rm -rf "$work/ledger" "$work/duckdb" "$work/floor.parquet"
    mkdir -p "$work/duckdb"
    measure settle "$settle" run --month $month --orders "$input/orders.parquet" \
      --claims "$input/claims.parquet" --ledger "$work/ledger" --log-level warn >>"$work/runs.settle"
    measure duckdb python3 ../shared/bench/duckdb_settle.py "$input/orders.parquet" \
      "$input/claims.parquet" "$work/duckdb" $month $threads >>"$work/runs.duckdb"
    measure floor "$floor" "$input/orders.parquet" "$work/floor.parquet" >>"$work/runs.floor"
  done
  if python3 bench/compare.py "$work/ledger/$month/v1" "$work/duckdb" >"$work/compare.log"; then
    same=yes
  else
    same=NO
    cat "$work/compare.log" >&2
  fi
  read -r settle_s settle_mib < <(median <"$work/runs.settle")
  read -r duckdb_s duckdb_mib < <(median <"$work/runs.duckdb")
  read -r floor_s floor_mib < <(median <"$work/runs.floor")
  rows+=("$orders $settle_s $settle_mib $duckdb_s $duckdb_mib $floor_s $floor_mib $same")
done
$check && exit 0

table=$(
  echo "| orders | settle s | settle MiB | DuckDB s | DuckDB MiB | floor s | floor MiB | settle / DuckDB | settle / floor | same files as DuckDB |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|"
  for row in "${rows[@]}"; do
    echo "$row" | awk '{ printf "| %d | %.2f | %d | %.2f | %d | %.2f | %d | %.2f | %.2f | %s |\n",
      $1, $2, $3, $4, $5, $6, $7, $2 / $4, $2 / $6, $8 }'
  done
)
scaling=""
if [ ${#rows[@]} -ge 2 ]; then
  scaling=$(printf '%s\n' "${rows[@]}" | awk 'NR == 1 { n = $1; s = $2 } END {
    printf "settle: %d orders took %.1f× the time of %d orders (%.0f× the orders)\n", $1, $2 / s, n, $1 / n }')
fi
commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- src examples bench Cargo.toml Cargo.lock || commit="$commit (with uncommitted changes)"
machine="$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/ { print $2 }') GiB, $(uname -sr); runs on $threads cores${pin[*]:+ (taskset)}, POLARS_MAX_THREADS=$threads, DuckDB threads=$threads"

echo "$table"
[ -z "$scaling" ] || echo "$scaling"
{
  echo
  echo "## $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit"
  echo
  echo "Machine: $machine. Median wall time of $repeat runs each, largest peak memory (RSS)."
  echo
  echo "$table"
  [ -z "$scaling" ] || { echo; echo "$scaling"; }
} >>bench/RESULTS.md
echo "appended to bench/RESULTS.md" >&2
