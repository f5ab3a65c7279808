"""Checks that the job's files equal the reference pipeline's on one month.

usage: compare.py JOB_DIR DUCKDB_DIR

JOB_DIR is a published version folder (LEDGER/YYYY-MM/vN), DUCKDB_DIR the folder
duckdb_settle.py wrote. Compares order_lines.parquet row for row in every column (instants as
instants; DuckDB leaves claim_ids empty as NULL where the job writes ''), and the two CSV files
row for row in file order. Prints what differs and exits 1 if anything does.
"""
import csv
import sys

import duckdb

job, reference = sys.argv[1:3]
problems = []

con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
columns = """order_id, request_id, client_id, lancer_id, work_type, amount_jpy, reward_jpy,
  epoch_ns(ordered_at::TIMESTAMP_NS) AS ordered_at, epoch_ns(completed_at::TIMESTAMP_NS) AS completed_at,
  covered, reason,
  surcharge_jpy, rebate_jpy, payout_jpy, payout_status, coalesce(claim_ids, '') AS claim_ids"""
lines = {
    name: f"(SELECT {columns} FROM read_parquet('{folder}/order_lines.parquet'))"
    for name, folder in (("job", job), ("duckdb", reference))
}
counts = {name: con.execute(f"SELECT count(*) FROM {query}").fetchone()[0] for name, query in lines.items()}
if counts["job"] != counts["duckdb"]:
    problems.append(f"order_lines.parquet: {counts['job']} rows, DuckDB wrote {counts['duckdb']}")
for only, other in (("job", "duckdb"), ("duckdb", "job")):
    rows = con.execute(f"SELECT * FROM {lines[only]} EXCEPT ALL SELECT * FROM {lines[other]} LIMIT 5").fetchall()
    for row in rows:
        problems.append(f"order_lines.parquet: only the {only} has {row}")
order = con.execute(
    f"SELECT count(*) FROM (SELECT order_id, lag(order_id) OVER () AS previous FROM {lines['job']}) "
    "WHERE previous >= order_id"
).fetchone()[0]
if order:
    problems.append(f"order_lines.parquet: {order} order ids are not in ascending order")

for name in ("client_charges.csv", "lancer_payouts.csv"):
    with open(f"{job}/{name}", newline="") as mine, open(f"{reference}/{name}", newline="") as theirs:
        mine_rows, their_rows = list(csv.reader(mine)), list(csv.reader(theirs))
    if len(mine_rows) != len(their_rows):
        problems.append(f"{name}: {len(mine_rows)} rows, DuckDB wrote {len(their_rows)}")
    for number, (a, b) in enumerate(zip(mine_rows, their_rows)):
        if a != b:
            problems.append(f"{name} row {number}: job {a}, DuckDB {b}")
            break

for problem in problems:
    print(problem)
print(f"compared {counts['job']} order lines and the client and lancer files: "
      f"{'the same' if not problems else f'{len(problems)} differences'}")
sys.exit(1 if problems else 0)
