"""Per-endpoint response times and failures from Locust's CSV statistics.

    python bench/load_report.py PREFIX [--require NAME ...]
    (reads PREFIX_stats.csv and PREFIX_failures.csv)

Prints requests, failures and the 50th, 95th and 99th percentile times (ms) of each
endpoint, then every distinct failure; exits 1 if any request failed, or if an endpoint
named with --require was never called (the run was too short to reach it). Standard
library only.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

COLUMNS = ("Request Count", "Failure Count", "50%", "95%", "99%", "Max Response Time", "Requests/s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefix", help="Locust's --csv prefix")
    parser.add_argument("--require", action="append", default=[], help="an endpoint that must have been called")
    args = parser.parse_args()
    prefix = args.prefix
    stats_file = Path(f"{prefix}_stats.csv")
    if not stats_file.exists():
        print(f"no statistics: {stats_file} is missing (Locust did not run)", file=sys.stderr)
        return 1
    with stats_file.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    heading = ("requests", "failed", "p50 ms", "p95 ms", "p99 ms", "max ms", "req/s")
    print(f"{'endpoint':<24} " + " ".join(f"{word:>8}" for word in heading))
    for row in rows:
        name = row["Name"]
        count, failed, p50, p95, p99, slowest, rate = (row[column] for column in COLUMNS)
        print(
            f"{name[:24]:<24} {count:>8} {failed:>8} {p50:>8} {p95:>8} {p99:>8} "
            f"{float(slowest or 0):>8.0f} {float(rate or 0):>8.1f}"
        )
    total = next((row for row in rows if row["Name"] == "Aggregated"), None)
    failed = int(total["Failure Count"]) if total else sum(int(row["Failure Count"]) for row in rows)
    failures_file = Path(f"{prefix}_failures.csv")
    if failures_file.exists():
        with failures_file.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                print(f"failed {row['Occurrences']} x {row['Method']} {row['Name']}: {row['Error']}")
    if total is None or int(total["Request Count"]) == 0:
        print("no requests were made", file=sys.stderr)
        return 1
    called = {row["Name"] for row in rows if int(row["Request Count"])}
    missing = [name for name in args.require if name not in called]
    if missing:
        print(f"never called: {', '.join(missing)} (make the run longer)", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
