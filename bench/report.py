"""The printed figures, their targets, and the verdict on errors."""

from __future__ import annotations

from collections.abc import Sequence

from bench.after_sales_bench import RACE_AMOUNT, Race
from bench.load import Result
from bench.query_plans import Plan
from bench.workflow_cost import ActionCost

MAX_ERROR_RATIO = 0.01
CREATE_RATIO_TARGET = 0.60
LIST_P99_TARGET_MS = 20.0
ACTION_TARGET_US = 50.0


def table(results: Sequence[Result]) -> str:
    width = max(len("scenario"), *(len(r.scenario) for r in results))
    header = f"{'scenario':<{width}} {'requests':>9} {'errors':>7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
    rows = [header, "-" * len(header)]
    rows += [
        f"{r.scenario:<{width}} {r.requests:>9} {r.errors:>7} {r.rate:>9.1f} {r.percentile_ms(50):>8.2f} "
        f"{r.percentile_ms(99):>8.2f}"
        for r in results
    ]
    return "\n".join(rows)


def ratio(numerator: Result, denominator: Result, target: float | None = None) -> str:
    value = numerator.rate / denominator.rate if denominator.rate > 0 else float("nan")
    line = f"{numerator.scenario} / {denominator.scenario} req/s: {value:.2f}"
    return line if target is None else f"{line} (target ≥ {target:.2f}: {_verdict(value >= target)})"


def list_p99(results: Sequence[Result]) -> str:
    worst = max(results, key=lambda r: r.percentile_ms(99))
    p99 = worst.percentile_ms(99)
    return (
        f"list pages, worst p99: {p99:.2f} ms ({worst.scenario}) "
        f"(target < {LIST_P99_TARGET_MS:g} ms: {_verdict(p99 < LIST_P99_TARGET_MS)})"
    )


def action_costs(costs: Sequence[ActionCost]) -> list[str]:
    return [
        f"workflow {c.action}: {c.microseconds:.1f} µs per decide + apply "
        f"(target < {ACTION_TARGET_US:g} µs: {_verdict(c.microseconds < ACTION_TARGET_US)})"
        for c in costs
    ]


def refund_flows(result: Result) -> str:
    return (
        f"{result.scenario}: {result.rate:.1f} flows/s (each: create with 极速审核, payment_accepted, "
        f"payment_succeeded)"
    )


def race(found: Race) -> str:
    verdict = "exact" if found.exact else ("OVERPAID" if found.overpaid else "NOT EXACT")
    return (
        f"partial refund race: {found.requests} concurrent requests of {_money(RACE_AMOUNT)} on one order, "
        f"{found.seconds:.2f} s wall; {found.accepted} accepted ({_money(found.accepted_amount)}), {found.refused} "
        f"refused, {found.requests - found.accepted - found.refused} other; {found.fits} fit, "
        f"{_money(found.refundable_after)} still refundable ({verdict})"
    )


def race_failures(found: Race) -> list[str]:
    """FAILED lines: more refunded than paid above all, and any other departure from exactly what fits."""
    if found.overpaid:
        return [f"FAILED partial refund race accepted {_money(found.accepted_amount)}: more than was paid"]
    if not found.exact:
        return [
            f"FAILED partial refund race: {found.accepted} accepted where {found.fits} fit, {found.refused} refused "
            f"of {found.requests}, {_money(found.refundable_after)} left refundable"
        ]
    return []


def plans(found: Sequence[Plan]) -> list[str]:
    """Each plan's verdict, then the plan itself, indented."""
    lines = []
    for plan in found:
        lines.append(f"{plan.label}: {plan.summary}")
        lines += [f"    {line}" for line in plan.lines]
    return lines


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


def _money(minor_units: int) -> str:
    return f"{minor_units / 100:,.2f}"


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"
