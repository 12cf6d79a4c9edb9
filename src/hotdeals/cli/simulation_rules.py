"""``hotdeals simulate``'s winner-rule report: when the rule fires, and whether it named the best.

The rule's two error modes, firing late and naming a deal that is not the best, can only be
measured where the true rates are known; the docs quote this report for the rule's error rate.
The maths is :class:`~hotdeals.bandit.RuleTracker`, which watches each policy's simulation;
this module only builds the rule from the options, and lays the figures out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from hotdeals.bandit import BanditError, RuleStudy, WinnerRule
from hotdeals.errors import InvalidRequest

__all__ = ["RuleSummary", "parse_examination", "rule_json", "rule_table", "winner_rule"]

_OPTIONS = ("min_prob_best", "max_relative_loss", "min_impressions")


@dataclass(frozen=True, slots=True)
class RuleSummary:
    """One policy's figures for the rule, over the seeds."""

    seeds: int
    decided: int
    median: float | None
    p90: float | None
    named: int
    wrong: int
    loss_only_share: float | None

    @classmethod
    def of(cls, study: RuleStudy) -> RuleSummary:
        """Counts rather than shares, so the table can say "2 of 100"."""
        named = study.winners[study.winners >= 0]
        return cls(
            seeds=len(study.decided_at),
            decided=int((study.decided_at >= 0).sum()),
            median=study.median_steps,
            p90=study.p90_steps,
            named=len(named),
            wrong=int((study.true_rates[named] < study.true_rates.max()).sum()),
            loss_only_share=study.loss_only_share,
        )


def winner_rule(min_prob_best: float, max_relative_loss: float, min_impressions: int) -> WinnerRule:
    """The rule of the options; a bad value is reported under its option's name."""
    try:
        return WinnerRule(
            min_prob_best=min_prob_best,
            max_relative_loss=max_relative_loss,
            min_impressions=min_impressions,
        )
    except BanditError as exc:
        message = str(exc)
        for name in _OPTIONS:
            if message.startswith(name):
                message = "--" + name.replace("_", "-") + message[len(name) :]
        raise InvalidRequest(message) from None


def parse_examination(text: str, k: int) -> list[float]:
    """One examination probability per slot, comma-separated, each in (0, 1]."""
    values: list[float] = []
    for piece in text.split(","):
        try:
            value = float(piece.strip())
        except ValueError:
            raise InvalidRequest(f"--examination: {piece.strip()!r} is not a number") from None
        if not (math.isfinite(value) and 0.0 < value <= 1.0):
            raise InvalidRequest(f"--examination: each factor must lie in (0, 1], got {value:g}")
        values.append(value)
    if len(values) != k:
        raise InvalidRequest(
            f"--examination: give one factor per slot (--k {k}), got {len(values)}"
        )
    return values


def rule_table(rule: WinnerRule, summaries: dict[str, RuleSummary], best: int) -> Table:
    """Per policy: how many seeds decided, how soon, and how many named a deal not the best."""
    loss = (
        f" or expected loss < {rule.max_relative_loss:.2%} of the leader's CTR"
        if rule.max_relative_loss > 0
        else ""
    )
    table = Table(
        title=(
            f"Winner rule: P(best) >= {rule.min_prob_best:g}{loss}; the leader has >= "
            f"{rule.min_impressions:,} impressions (truly best: arm {best})"
        )
    )
    table.add_column("policy", no_wrap=True)
    headers = ("decided", "median impressions", "p90 impressions", "wrong winners", "by loss")
    for header in headers:
        table.add_column(header, justify="right")
    for name, s in summaries.items():
        table.add_row(
            name,
            f"{s.decided} of {s.seeds}",
            _impressions(s.median),
            _impressions(s.p90),
            f"{s.wrong} of {s.named}",
            "-" if s.loss_only_share is None else f"{s.loss_only_share:.0%}",
        )
    return table


def rule_json(rule: WinnerRule, summaries: dict[str, RuleSummary], best: int) -> dict[str, Any]:
    """The ``winner_rule`` member of ``--json``: the thresholds and the figures per policy."""
    return {
        "min_prob_best": rule.min_prob_best,
        "max_relative_loss": rule.max_relative_loss,
        "min_impressions": rule.min_impressions,
        "best_arm": best,
        "policies": {
            name: {
                "decided_share": s.decided / s.seeds,
                "median_impressions": s.median,
                "p90_impressions": s.p90,
                "named": s.named,
                "wrong_winners": s.wrong,
                "loss_only_share": s.loss_only_share,
            }
            for name, s in summaries.items()
        },
    }


def _impressions(value: float | None) -> str:
    """``None`` (fewer than half, or 90%, of the seeds decided) reads as beyond the horizon."""
    return "> horizon" if value is None else f"{value:,.0f}"
