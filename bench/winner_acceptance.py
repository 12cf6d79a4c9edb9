"""The issue's acceptance run of the winner rule: 20,000 ranks through the HTTP API on SQLite.

Three deals at 2%, 4% and 8% true CTR, k = 1, clicks drawn from those rates, the server's
generator seeded (``HOTDEALS_SEED``): prints one JSON line with the winner ``/stats`` names and
the decision panel, and exits 1 unless it is the 8% deal. The same campaign, shorter, runs in CI
(``tests/api/test_winner_acceptance.py``).

    .venv/bin/python -m bench.winner_acceptance [--ranks 20000] [--seed 12]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from hotdeals.app import create_app
from hotdeals.config import get_settings
from hotdeals.db.engine import make_engine
from hotdeals.db.migrate import upgrade_to_head
from tests.factories import TEST_ADMIN_TOKEN
from tests.support.server import GENEROUS_RATE_LIMITS
from tests.support.winner_campaign import BEST, run_campaign


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'acceptance.db'}"
        engine = make_engine(url)
        upgrade_to_head(engine)
        engine.dispose()
        os.environ.update(
            {
                "DATABASE_URL": url,
                "HOTDEALS_ADMIN_TOKEN": TEST_ADMIN_TOKEN,
                "HOTDEALS_SEED": str(args.seed),
                **GENEROUS_RATE_LIMITS,
            }
        )
        get_settings.cache_clear()
        started = time.perf_counter()
        stats = asyncio.run(run_campaign(create_app(), args.ranks))
        seconds = time.perf_counter() - started
    winner = stats["winner"]
    report = {
        "ranks": args.ranks,
        "seed": args.seed,
        "seconds": round(seconds, 1),
        "impressions": {d["bandit_name"]: d["impressions"] for d in stats["bandits"]},
        "clicks": {d["bandit_name"]: d["clicks"] for d in stats["bandits"]},
        "winner": winner,
        "decision": {k: stats["decision"][k] for k in ("state", "summary", "conditions")},
        "ok": winner is not None and winner["bandit_name"] == BEST,
    }
    print(json.dumps(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
