"""In-process cost of the rate limiter on the hot path: one ``RateLimits.hit`` per call.

What rank and click pay per request with the default in-memory storage: the per-IP hit (one
address, as from a shop's backend) and the per-customer hit (a fresh customer every call up to
10,000, then cycling, as wrk's rank bodies do), and a refused hit (which also reads the window's
reset time). With ``--redis URL`` it times the shared storage too (one round trip per hit).
Prints one JSON line of microseconds per call (best of five runs), also written to
``bench/results/``. Target: a few microseconds per call with memory storage.

    .venv/bin/python -m bench.rate_limit_micro [--redis redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

from hotdeals.config import Settings
from hotdeals.http.rate_limit import RateLimits, Rule

RESULTS = Path(__file__).with_name("results")
CALLS = 50_000
CUSTOMERS = 10_000


def settings(storage: str, prefix: str) -> Settings:
    return Settings(
        hotdeals_rate_limit_storage=storage,
        hotdeals_rate_limit_key_prefix=prefix,
        hotdeals_rate_limit_rank_per_ip="1000000000/second",
        hotdeals_rate_limit_rank_per_customer="1000000000/minute",
    )


async def per_call(limiter: RateLimits, rule: Rule, keys: list[str], calls: int) -> float:
    """Microseconds per ``hit`` over ``calls`` calls, best of five runs."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for i in range(calls):
            await limiter.hit(rule, keys[i % len(keys)])
        best = min(best, (time.perf_counter() - start) / calls * 1e6)
    return best


async def measure(storage: str, calls: int) -> dict[str, float]:
    limiter = RateLimits(settings(storage, f"bench-{uuid.uuid4().hex[:8]}"))
    rules = limiter.rules
    refused = Rule.of("refused", "10/minute", "sign-ins")
    await limiter.hit(refused, "203.0.113.9")
    for _ in range(refused.rate.amount):
        await limiter.hit(refused, "203.0.113.9")
    customers = [str(c) for c in range(1, CUSTOMERS + 1)]
    try:
        return {
            "ip_hit_us": round(await per_call(limiter, rules.rank_ip, ["203.0.113.7"], calls), 2),
            "customer_hit_us": round(
                await per_call(limiter, rules.rank_customer, customers, calls), 2
            ),
            "refused_hit_us": round(await per_call(limiter, refused, ["203.0.113.9"], calls), 2),
        }
    finally:
        await limiter.reset()
        await limiter.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", help="also time this redis:// storage")
    parser.add_argument("--calls", type=int, default=CALLS)
    args = parser.parse_args(argv)
    result: dict[str, object] = {
        "bench": "rate_limit_micro",
        "python": sys.version.split()[0],
        "memory": asyncio.run(measure("memory://", args.calls)),
    }
    if args.redis:
        result["redis"] = asyncio.run(measure(args.redis, max(1, args.calls // 20)))
    line = json.dumps(result)
    print(line)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"rate_limit_micro-{int(time.time())}.json").write_text(line + "\n")


if __name__ == "__main__":
    main()
