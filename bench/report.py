"""The printed figures, their targets, and the verdict on errors."""

from __future__ import annotations

from collections.abc import Sequence

from bench.after_sales_bench import RACE_AMOUNT, Race
from bench.load import Result
from bench.query_plans import Plan
from bench.server import Server
from bench.workflow_cost import ActionCost

MAX_ERROR_RATIO = 0.01
CREATE_RATIO_TARGET = 0.60
CREATE_CPU_TARGET = 1.6  # times the baseline's server CPU per create
READ_CPU_TARGET = 1.5  # times the baseline's server CPU per GET or list page
IDLE_LATENCY_TARGET = 2.0  # times the baseline's one-client p50
WORKERS_RATIO_TARGET = 1.7
LIST_P99_TARGET_MS = 20.0
ACTION_TARGET_US = 50.0


def table(results: Sequence[Result]) -> list[str]:
    """One row per run; a `*` marks a run whose load generator was saturated."""
    width = max(len("scenario"), *(len(r.scenario) for r in results))
    header = (
        f"{'scenario':<{width}} {'gen':>6} {'requests':>8} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'CPU ms/req':>10} {'gen cores':>9}"
    )
    rows = [header, "-" * len(header)]
    for r in results:
        generator = r.sample.generator
        mark = "*" if generator.saturated else " "
        rows.append(
            f"{r.scenario:<{width}} {generator.name:>6} {r.requests:>8} {r.errors:>6} {r.rate:>8.1f} "
            f"{r.percentile_ms(50):>8.2f} {r.percentile_ms(99):>8.2f} {r.cpu_ms_per_request:>10.2f} "
            f"{generator.cores:>8.2f}{mark}"
        )
    saturated = [r for r in results if r.sample.generator.saturated]
    if saturated:
        limits = sorted({f"{r.sample.generator.name} {r.sample.generator.limit:.2f}" for r in saturated})
        rows.append(f"* load generator saturated (cores used above its limit: {', '.join(limits)}): no ratio from it")
    return rows


def ratio(numerator: Result, denominator: Result, target: float | None = None) -> str:
    """Throughput of one server over another's, unless a generator was the bottleneck of either run."""
    label = f"{numerator.scenario} / {denominator.scenario} req/s"
    saturated = [r for r in (numerator, denominator) if r.sample.generator.saturated]
    if saturated:
        runs = ", ".join(
            f"{r.scenario}: {r.sample.generator.name} used {r.sample.generator.cores:.2f} cores, limit "
            f"{r.sample.generator.limit:.2f}"
            for r in saturated
        )
        return f"{label}: not shown, the load generator was saturated ({runs})"
    value = numerator.rate / denominator.rate if denominator.rate > 0 else float("nan")
    line = f"{label}: {value:.2f}"
    return line if target is None else f"{line} (target ≥ {target:.2f}: {_verdict(value >= target)})"


def cpu_ratio(ours: Result, floor: Result, target: float | None = None) -> str:
    """Server CPU per request over the baseline's: the cost the generator cannot hide."""
    value = ours.cpu_ms_per_request / floor.cpu_ms_per_request if floor.cpu_ms_per_request > 0 else float("nan")
    line = (
        f"{ours.scenario} / {floor.scenario} server CPU per request: {ours.cpu_ms_per_request:.2f} / "
        f"{floor.cpu_ms_per_request:.2f} ms = {value:.2f}×"
    )
    return line if target is None else f"{line} (target ≤ {target:.2f}×: {_verdict(value <= target)})"


def latency_ratio(ours: Result, floor: Result, target: float) -> str:
    value = ours.percentile_ms(50) / floor.percentile_ms(50) if floor.percentile_ms(50) > 0 else float("nan")
    return (
        f"{ours.scenario} / {floor.scenario} p50: {ours.percentile_ms(50):.2f} / {floor.percentile_ms(50):.2f} ms "
        f"= {value:.2f}× (target ≤ {target:.2f}×: {_verdict(value <= target)})"
    )


def memory(servers: Sequence[Server]) -> list[str]:
    return [
        f"{server.name} RSS: {_megabytes(server.idle_rss)} idle (started and warmed up), "
        f"{_megabytes(server.rss())} after its runs"
        for server in servers
        if server.idle_rss is not None and server.process.returncode is None
    ]


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


def _megabytes(size: int | None) -> str:
    return "?" if size is None else f"{size / 1e6:.1f} MB"


def _money(minor_units: int) -> str:
    return f"{minor_units / 100:,.2f}"


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"
