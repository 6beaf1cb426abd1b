"""The bench's measures: what wrk reports is parsed into honest counts, the server's CPU includes its worker
processes, and no throughput ratio is printed from a run whose load generator was saturated."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bench import process_stats, report
from bench.load import Budget, GeneratorUse, Result, Sample
from bench.receiver import Receiver
from bench.traffic import NUMBER, Traffic, python_send
from bench.wrk import WrkLoad, parse

WRK_OUTPUT = """\
Running 5s test @ http://127.0.0.1:8000
bench-summary 1000 5000000 0 2 0 1
bench-latency 50 1500
bench-latency 99 12000
bench-status 201 990
bench-status 422 7
bench-error HTTP 422: {"code": "validation_failed"}
"""


def test_wrk_answers_outside_2xx_and_socket_errors_count_as_errors() -> None:
    sample = parse(WRK_OUTPUT, threads=2, cpu_seconds=0.5)

    assert (sample.requests, sample.errors, sample.elapsed) == (1000, 7 + 2 + 1, 5.0)
    assert sample.latency_ms == {50: 1.5, 99: 12.0}
    assert sample.first_error == 'HTTP 422: {"code": "validation_failed"}'
    assert sample.generator.cores == pytest.approx(0.1)


def test_wrk_run_that_spent_its_request_budget_ends_at_the_last_stop() -> None:
    sample = parse(WRK_OUTPUT + "bench-budget-spent 250000\n", threads=2, cpu_seconds=0.05)

    assert sample.elapsed == 0.25
    assert sample.generator.cores == pytest.approx(0.2)


def _result(scenario: str, requests: int, generator_cpu: float) -> Result:
    generator = GeneratorUse("wrk", 2, generator_cpu, 10.0)
    return Result(scenario, scenario, Sample(requests, 0, 10.0, {50: 1.0, 99: 2.0}, None, generator), 5.0)


def test_throughput_ratio_is_withheld_when_the_generator_was_saturated() -> None:
    """Above one and a half cores, wrk's two threads are saturated on any machine."""
    ours, floor = _result("ours", 1000, 1.0), _result("floor", 2000, 15.0)

    line = report.ratio(ours, floor)

    assert line.startswith("ours / floor req/s: not shown, the load generator was saturated")
    assert "floor: wrk used 1.50 cores" in line
    assert report.ratio(ours, _result("floor", 2000, 1.0)) == "ours / floor req/s: 0.50"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_server_cpu_includes_its_worker_processes() -> None:
    """A parent that only waits, its child burning CPU: the child's time is the parent's tree's."""
    burn = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\ntime.sleep(30)"
    parent = subprocess.Popen(  # noqa: S603 - our own interpreter running our own code
        [sys.executable, "-c", f"import subprocess, sys; subprocess.run([sys.executable, '-c', {burn!r}])"]
    )
    try:
        before = process_stats.cpu_seconds(parent.pid)
        deadline = time.monotonic() + 20
        while process_stats.cpu_seconds(parent.pid) - before < 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
        grown = process_stats.cpu_seconds(parent.pid) - before
        rss = process_stats.rss_bytes(parent.pid)
    finally:
        for child in _children(parent.pid):
            os.kill(child, 9)
        parent.kill()
        parent.wait()
    assert grown >= 0.3
    assert rss > 2 * 1024 * 1024  # two interpreters resident


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if int(text[text.rindex(")") + 2 :].split()[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
async def test_wrk_sends_the_declared_requests_each_numbered_once_and_stops_at_the_budget() -> None:
    body = '{"title": "净化器异响"}'.encode()
    traffic = Traffic("PUT", (f"/v1/orders/A-{NUMBER}", f"/v1/orders/B-{NUMBER}"), {"x-bench": "yes"}, body)
    async with Receiver() as receiver:
        base_url = receiver.url.removesuffix("/hooks")
        sample = await WrkLoad(shutil.which("wrk") or "", base_url, traffic).run("numbered", Budget(200, 3, 4))
        await asyncio.sleep(0.2)  # the receiver reads what was in flight when wrk stopped

    assert 200 <= sample.requests <= 200 + 4 and sample.errors == 0  # answers already read when a thread stops count
    assert len(receiver.received) == sample.requests + sample.unanswered  # the server's work is all accounted for
    paths = [request.path for request in receiver.received]
    assert len(set(paths)) == len(paths)
    assert {path.rsplit("-", 1)[0] for path in paths} == {"/v1/orders/A", "/v1/orders/B"}
    assert all(request.body == body and request.headers["x-bench"] == "yes" for request in receiver.received)


NUMBERED_BODY = f'{{"customer_no": "BR-{NUMBER}", "title": "投诉"}}'.encode()


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
async def test_wrk_numbers_the_body_too() -> None:
    traffic = Traffic("POST", ("/v1/tickets",), {}, NUMBERED_BODY)
    async with Receiver() as receiver:
        base_url = receiver.url.removesuffix("/hooks")
        sample = await WrkLoad(shutil.which("wrk") or "", base_url, traffic).run("numbered body", Budget(50, 3, 2))
        await asyncio.sleep(0.2)

    bodies = [request.body for request in receiver.received]
    assert len(bodies) == sample.requests + sample.unanswered and len(set(bodies)) == len(bodies)
    assert all(b.startswith(b'{"customer_no": "BR-') and NUMBER.encode() not in b for b in bodies)


async def test_the_python_client_numbers_path_and_body_alike() -> None:
    traffic = Traffic("POST", (f"/v1/x/{NUMBER}",), {}, NUMBERED_BODY)
    async with Receiver() as receiver, httpx.AsyncClient() as client:
        send = python_send(client, receiver.url.removesuffix("/hooks"), traffic)
        for index in range(3):
            await send(index)

    assert [(r.path, r.body) for r in receiver.received] == [
        (f"/v1/x/{i}", NUMBERED_BODY.replace(NUMBER.encode(), str(i).encode())) for i in range(3)
    ]


def test_the_machine_busy_time_counts_a_spinning_child():
    """The workers scenario says where the CPUs went: a process that spins for a while shows in the machine's busy
    time by at least most of that while (other work on the machine can only add to it)."""
    before = process_stats.machine_busy_seconds()
    subprocess.run(
        [sys.executable, "-c", "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass"],
        check=True,
    )
    assert process_stats.machine_busy_seconds() - before >= 0.4
