"""The figures' slot fit: the same counters give the same fit back, grown ones are refitted from
the last fit (fewer EM iterations, the same fit up to EM's tolerance), each campaign its own."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hotdeals.bandit import positions
from hotdeals.services import slot_effects
from hotdeals.services.slot_effects import WarmFits


def _counters(seed: int, total: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    impressions = rng.multinomial(total, np.full(18, 1 / 18)).reshape(6, 3)
    clicks = rng.binomial(impressions, np.outer(np.linspace(0.04, 0.14, 6), [1.0, 0.7, 0.5]))
    return impressions, clicks


def test_same_counters_same_fit_grown_counters_a_warm_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    starts: list[Any] = []
    real = positions.fit_examination

    def spy(impressions: Any, clicks: Any, **kwargs: Any) -> Any:
        starts.append(kwargs.get("start"))
        return real(impressions, clicks, **kwargs)

    monkeypatch.setattr(slot_effects, "fit_examination", spy)
    fits = WarmFits()
    ids = list(range(1, 7))
    n, c = _counters(1, 100_000)
    first = fits.fit(7, ids, n, c)
    assert first is not None
    assert starts == [None]
    assert fits.fit(7, ids, n.copy(), c.copy()) is first  # nothing moved: no fit at all
    more_n, more_c = _counters(2, 1_000)
    grown = fits.fit(7, ids, n + more_n, c + more_c)
    assert grown is not None
    assert len(starts) == 2
    np.testing.assert_array_equal(starts[1], first)  # started from the last fit
    cold = real(n + more_n, c + more_c).probabilities
    np.testing.assert_allclose(grown, cold, atol=1e-6)
    assert fits.fit(8, ids, n, c) is not None
    assert starts[2] is None


def test_nothing_to_fit_is_none() -> None:
    fits = WarmFits()
    n, c = _counters(3, 1_000)
    assert fits.fit(1, list(range(1, 7)), n[:, :1], c[:, :1]) is None  # one slot
    assert fits.fit(1, list(range(1, 7)), n, np.zeros_like(c)) is None  # no click
