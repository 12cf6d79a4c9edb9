"""``column_quantiles`` is ``np.quantile(..., axis=0)`` by one sort: the same numbers, infinite
draws included (a log of a zero rate is -inf), where NumPy's ``inf - inf`` gives NaN."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from hotdeals.bandit.arrays import column_quantiles

LEVELS = (0.5, 0.025, 0.975)


@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 60), st.integers(1, 5)),
        elements=st.floats(-1e6, 1e6) | st.sampled_from([-np.inf, 0.0, 1.0]),
    ),
    st.lists(st.floats(0, 1), min_size=1, max_size=4),
)
def test_the_same_as_numpys_quantile(draws: np.ndarray, levels: list[float]) -> None:
    with np.errstate(invalid="ignore"):
        expected = np.quantile(draws, levels, axis=0)
    got = column_quantiles(draws, levels)
    assert got.shape == (len(levels), draws.shape[1])
    numpy_gave = ~np.isnan(expected)  # NumPy's inf - inf: ours keeps the infinite draw
    np.testing.assert_allclose(got[numpy_gave], expected[numpy_gave], rtol=1e-12, atol=1e-9)
    assert np.all(np.isinf(got[~numpy_gave]) | np.isnan(got[~numpy_gave]))


@pytest.mark.parametrize("draws", [250, 4_000])
def test_monte_carlo_sized_matrices(draws: int) -> None:
    sample = np.random.default_rng(draws).lognormal(size=(draws, 300))
    np.testing.assert_allclose(
        column_quantiles(sample, LEVELS), np.quantile(sample, LEVELS, axis=0), rtol=1e-12
    )
