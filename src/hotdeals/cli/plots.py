"""Regret plots of a simulation: PNG for reports (matplotlib), HTML to explore (plotly).

Each policy is drawn as its mean cumulative regret over the seeds with a band from the lowest
to the highest seed, because the spread between runs is as much a part of the comparison as
the mean: a policy with a low mean and a wide band is a gamble on a live shop.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final, Protocol

from hotdeals.bandit.arrays import CountArray, FloatArray
from hotdeals.errors import InvalidRequest

__all__ = ["CLICK_REGRET", "PLOT_SUFFIXES", "RegretCurves", "check_plot_path", "write_regret_plot"]

PLOT_SUFFIXES: Final = (".png", ".html")
_COLOURS: Final = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
CLICK_REGRET: Final = "cumulative regret (clicks lost)"


class RegretCurves(Protocol):
    """What a plot needs of a result, so that policies' and shop objectives' curves both draw."""

    @property
    def checkpoints(self) -> CountArray: ...
    @property
    def cumulative_regret(self) -> FloatArray: ...


def check_plot_path(path: Path) -> None:
    """Refuse an unknown format or a missing folder before minutes of simulation, not after."""
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise InvalidRequest(f"--out {path}: the plot is written as .png or .html")
    if not path.parent.is_dir():
        raise InvalidRequest(f"--out {path}: the folder {path.parent} does not exist")


def write_regret_plot(
    path: Path,
    results: Mapping[str, RegretCurves],
    title: str,
    y_label: str = CLICK_REGRET,
) -> None:
    """Write the plot in the format the file name asks for; ``y_label`` says what regret counts."""
    check_plot_path(path)
    try:
        if path.suffix.lower() == ".png":
            _png(path, results, title, y_label)
        else:
            _html(path, results, title, y_label)
    except OSError as exc:
        raise InvalidRequest(f"--out {path}: cannot write it ({exc.strerror or exc})") from None


def _png(path: Path, results: Mapping[str, RegretCurves], title: str, y_label: str) -> None:
    # The Agg canvas directly, not pyplot: no global figure state and no GUI backend lookup.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 5), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    for (name, result), colour in zip(results.items(), _cycle(len(results)), strict=True):
        curves = result.cumulative_regret
        axes.fill_between(
            result.checkpoints, curves.min(axis=0), curves.max(axis=0), color=colour, alpha=0.2
        )
        axes.plot(result.checkpoints, curves.mean(axis=0), color=colour, label=name)
    axes.set_title(title)
    axes.set_xlabel("steps (page views)")
    axes.set_ylabel(y_label)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", title="mean, band: min-max over seeds")
    figure.savefig(path)


def _html(path: Path, results: Mapping[str, RegretCurves], title: str, y_label: str) -> None:
    import plotly.graph_objects as go

    figure = go.Figure()
    for (name, result), colour in zip(results.items(), _cycle(len(results)), strict=True):
        steps = result.checkpoints.tolist()
        curves = result.cumulative_regret
        figure.add_trace(
            go.Scatter(
                x=steps + steps[::-1],
                y=curves.max(axis=0).tolist() + curves.min(axis=0)[::-1].tolist(),
                fill="toself",
                fillcolor=colour,
                opacity=0.2,
                line={"width": 0},
                hoverinfo="skip",
                legendgroup=name,
                showlegend=False,
                name=f"{name} min-max",
            )
        )
        figure.add_trace(
            go.Scatter(
                x=steps,
                y=curves.mean(axis=0).tolist(),
                line={"color": colour},
                legendgroup=name,
                name=name,
            )
        )
    figure.update_layout(
        title=title,
        xaxis_title="steps (page views)",
        yaxis_title=y_label,
        legend_title="mean, band: min-max over seeds",
    )
    # The whole plotly.js goes into the file: it must open on a machine without internet.
    figure.write_html(path, include_plotlyjs=True, full_html=True)


def _cycle(count: int) -> list[str]:
    return [_COLOURS[i % len(_COLOURS)] for i in range(count)]
