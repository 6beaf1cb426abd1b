"""What the operating system accounts to a server: CPU time and resident memory of a process and all its
descendants (uvicorn's worker processes), read from /proc (Linux)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True, slots=True)
class _Stat:
    pid: int
    ppid: int
    command: str
    cpu_ticks: int  # user + system of the process itself and of its children it has waited for
    rss_pages: int


def cpu_seconds(root: int) -> float:
    """User + system CPU of `root` and its descendants. The waited-for children's time is included, so a worker that
    exits between two readings still counts: the sum only grows."""
    return sum(stat.cpu_ticks for stat in _tree(root)) / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU time all CPUs spent not idle (nor waiting on I/O) since boot, from /proc/stat's first line."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(value) for value in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def postgres_cpu_seconds() -> float:
    """User + system CPU of every PostgreSQL process on the machine (the backends serving the bench)."""
    stats = (_read(directory) for directory in PROC.glob("[0-9]*"))
    return sum(stat.cpu_ticks for stat in stats if stat is not None and stat.command == "postgres") / CLOCK_TICKS


def rss_bytes(root: int) -> int:
    """Resident memory of `root` and its descendants, added up (shared pages count once per process)."""
    return sum(stat.rss_pages for stat in _tree(root)) * PAGE_BYTES


def pids(root: int) -> list[int]:
    """`root` and its descendants as they are now: for samplers that read the same processes many times a second
    (walking all of /proc takes tens of milliseconds)."""
    return [stat.pid for stat in _tree(root)]


def resident_bytes(processes: list[int]) -> int:
    """Resident memory of these processes now, from /proc/<pid>/statm (one small read each); an ended one counts 0."""
    total = 0
    for pid in processes:
        try:
            total += int((PROC / str(pid) / "statm").read_text().split()[1])
        except OSError:
            continue
    return total * PAGE_BYTES


def peak_resident_bytes(pid: int) -> int:
    """The kernel's high-water mark of the process's resident memory since it started (VmHWM): no sampler misses
    a peak it records."""
    for line in (PROC / str(pid) / "status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmHWM")


def _tree(root: int) -> list[_Stat]:
    stats = [stat for stat in map(_read, PROC.glob("[0-9]*")) if stat is not None]
    children: dict[int, list[_Stat]] = {}
    for stat in stats:
        children.setdefault(stat.ppid, []).append(stat)
    found = [stat for stat in stats if stat.pid == root]
    for stat in found:  # grows while it is walked: breadth first down the tree
        found.extend(children.get(stat.pid, ()))
    return found


def _read(directory: Path) -> _Stat | None:
    """None for a process that ended while /proc was being read."""
    try:
        text = (directory / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: the fields proper start after the last ')'.
    command = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return _Stat(int(directory.name), int(fields[1]), command, utime + stime + cutime + cstime, int(fields[21]))
