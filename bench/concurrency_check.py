"""Nothing acknowledged is lost, nothing is counted twice, under concurrent load.

Starts ``hotdeals serve --workers 2`` on a fresh PostgreSQL database, runs 5,000 ranks from 16
concurrent clients with a click on a random half of the returned impressions, then checks that
every 2xx is counted exactly once in the counters and in the log, that ``hotdeals db-check``
passes and that no request got a 5xx. Exits 1 on any discrepancy. The check itself is
``tests.support.concurrency.check``, which the end-to-end tests run at a smaller size.

    .venv/bin/python -m bench.concurrency_check [--ranks 5000] [--clients 16] [--workers 2]
"""

from __future__ import annotations

import argparse
import sys

from tests.support.concurrency import check


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, default=5_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    problems = check(args.ranks, args.clients, args.workers)
    for problem in problems:
        print(f"DISCREPANCY: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
