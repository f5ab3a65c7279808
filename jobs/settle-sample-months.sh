#!/usr/bin/env bash
# Settles the sample months shipped in sample_data/ in order, into a ledger folder (default:
# ./ledger), and prints each month's summary. Running it again publishes nothing new.
#
# It is the month-end job of jobs/monthly.toml, a backfill from 2015-10 through 2016-01; the
# scheduler examples (jobs/crontab, jobs/systemd/, jobs/kubernetes/) run the same command with
# --through previous.
set -euo pipefail
ledger="${1:-ledger}"
# A relative ledger folder means one relative to where the script was started.
case "$ledger" in /*) ;; *) [ $# -gt 0 ] && ledger="$PWD/$ledger" ;; esac
cd "$(dirname "$0")/.."

cargo build --quiet --locked
settle="${CARGO_TARGET_DIR:-target}/debug/settle"

status=0
"$settle" run --job jobs/monthly.toml --month 2015-10 --through 2016-01 --ledger "$ledger" \
  --log-level warn || status=$?
# 3 means published with rejected rows: the months are settled, the rows are in each version's
# rejected_rows.csv. Anything else non-zero stopped the backfill; its message says where.
if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then
  exit "$status"
fi
echo "ledger: $ledger" >&2
