#!/bin/sh
# Runs `settle` for a scheduler that knows only success and failure (cron, a Kubernetes
# container), translating the documented exit codes:
#
#   0, 3  success (3: published, and some input rows were rejected; see rejected_rows.csv)
#   4     another run holds the ledger lock: wait and try again, up to SETTLE_LOCK_RETRIES
#         times SETTLE_LOCK_WAIT seconds apart, then give up with 4
#   other passed on unchanged, for the scheduler to alert on (1 failed, 2 usage error,
#         5 later months must be corrected, 6 a correction is needed)
#
# Usage: run-from-scheduler.sh run --job /etc/settle/monthly.toml --through previous
# SETTLE_BIN names the binary (default: settle on PATH).
settle="${SETTLE_BIN:-settle}"
retries="${SETTLE_LOCK_RETRIES:-6}"
wait_seconds="${SETTLE_LOCK_WAIT:-300}"

attempt=0
while :; do
  "$settle" "$@"
  status=$?
  case "$status" in
    0 | 3) exit 0 ;;
    4)
      attempt=$((attempt + 1))
      if [ "$attempt" -gt "$retries" ]; then
        echo "run-from-scheduler: the ledger was still locked after $retries retries" >&2
        exit 4
      fi
      echo "run-from-scheduler: the ledger is locked; retry $attempt of $retries in" \
        "$wait_seconds s" >&2
      sleep "$wait_seconds"
      ;;
    *) exit "$status" ;;
  esac
done
