"""The printed table, and the verdict on errors."""

from __future__ import annotations

from collections.abc import Sequence

from bench.load import Result

MAX_ERROR_RATIO = 0.01
HEADER = f"{'scenario':<14} {'requests':>9} {'errors':>7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}"


def table(results: Sequence[Result]) -> str:
    rows = [HEADER, "-" * len(HEADER)]
    rows += [
        f"{r.scenario:<14} {r.requests:>9} {r.errors:>7} {r.rate:>9.1f} {r.percentile_ms(50):>8.2f} "
        f"{r.percentile_ms(99):>8.2f}"
        for r in results
    ]
    return "\n".join(rows)


def ratio(numerator: Result, denominator: Result) -> str:
    value = numerator.rate / denominator.rate if denominator.rate > 0 else float("nan")
    return f"{numerator.scenario} / {denominator.scenario} req/s: {value:.2f}"


def error_lines(results: Sequence[Result]) -> list[str]:
    """One line per scenario with errors, with its first error as a clue; FAILED past the error budget."""
    return [
        f"{'FAILED' if over_budget(r) else 'errors in'} {r.scenario}: {r.errors} of {r.requests} requests "
        f"(limit {MAX_ERROR_RATIO:.0%}); first: {r.first_error}"
        for r in results
        if r.errors or over_budget(r)
    ]


def over_budget(result: Result) -> bool:
    return result.error_ratio > MAX_ERROR_RATIO
