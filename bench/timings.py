"""Samples of one in-process call, in milliseconds, and their nearest-rank percentiles."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Timing:
    label: str
    samples_ms: list[float]

    def percentile(self, p: int) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]
