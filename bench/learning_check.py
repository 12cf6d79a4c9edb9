"""The service learns through its real API: traffic flows to the best deal and it is named winner.

Simulated customers click deal i with probability (0.02, 0.04, 0.08). After 20,000 ranks with
k = 1 the best deal must hold more than 70% of the last 5,000 impressions, and ``/stats`` must
name it the winner with probability to be best >= 0.95. Exits 1 otherwise.

    .venv/bin/python -m bench.learning_check [--ranks 20000] [--clients 16] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys

from tests.support.loadgen import seed_project, shop
from tests.support.postgres import migrated_postgres
from tests.support.server import ServerProcess, api_client

RATES = (0.02, 0.04, 0.08)


def check(ranks: int, clients: int, seed: int, workers: int) -> list[str]:
    with migrated_postgres() as url, ServerProcess(url, workers=workers) as server:
        project_id, bandit_ids, customers = seed_project(
            server.base_url, [f"Deal clicked {r:.0%}" for r in RATES], slots=1
        )
        rate_of = dict(zip(bandit_ids, RATES, strict=True))

        def clicks(rng: random.Random, bandit_id: int, _position: int) -> bool:
            return rng.random() < rate_of[bandit_id]

        tally = asyncio.run(
            shop(
                server.base_url,
                project_id,
                customers,
                ranks=ranks,
                concurrency=clients,
                k=1,
                click=clicks,
                seed=seed,
            )
        )
        with api_client(server.base_url) as client:
            stats = client.get(f"/api/projects/{project_id}/stats").json()
    best = bandit_ids[-1]
    last = sorted(tally.shown)[-5_000:]  # transaction ids grow with time
    share = sum(1 for _, bandit in last if bandit == best) / len(last)
    winner = stats["winner"]
    problems = []
    if share <= 0.70:
        problems.append(f"best deal holds {share:.1%} of the last 5,000 impressions (<= 70%)")
    if winner is None or winner["bandit_id"] != best or winner["prob_best"] < 0.95:
        problems.append(f"/stats winner is {winner}, expected bandit {best} with P(best) >= 0.95")
    print(
        json.dumps(
            {
                "ranks_ok": tally.ranks_ok,
                "clicks": tally.clicks_new,
                "best_share_last_5000": round(share, 4),
                "winner": winner,
                "per_deal": [
                    {k: arm[k] for k in ("bandit_name", "impressions", "clicks", "prob_best")}
                    for arm in stats["bandits"]
                ],
                "discrepancies": problems,
            }
        )
    )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    problems = check(args.ranks, args.clients, args.seed, args.workers)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
