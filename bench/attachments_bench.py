"""证据附件 at size: a 1 GB video streamed into `POST /v1/attachments` (as the raw body, and on the local store also as
a multipart form), with its throughput and the server's resident memory while it streams (target: growth < 64 MB),
then downloads by signed link, on the local store and on a local S3-compatible server (moto's, its own process,
bucket made by the bench).

Each store gets a service of its own (`aftersales serve`, one process, on the bench database) with the video limit
raised to the file's size and no virus scanner (`none`: the scan job marks a file clean, unscanned). The file is made
as it is sent, by a generator: a real MP4 start (an `ftyp` box of brand isom, then one `mdat` box with a 64-bit size
spanning the rest, opened by a nonce of its own per upload so that no two uploads share a blob), then one seeded
pseudo-random MiB over and over. The client (httpx, streaming, Content-Length declared) hashes what it sends and
checks the service's size and SHA-256; neither side ever holds the file. Each upload is one measured run after a
1 MB warm-up upload of the same form (lazy imports, the S3 client's first connection): MB/s over the whole request,
and the server's CPU idle to idle.

Memory: the service's resident set, from /proc/<pid>/statm, just before the stream and every 50 ms until its answer,
and the kernel's high-water mark (VmHWM) before and after, which no sampling interval can miss. The service idles at
~175 MB (its imports); the target reads as the growth over the resident set just before the stream, what streaming
costs, not as the absolute figure, which is printed beside it.

Downloads: a 100 KB PNG is uploaded and cleared by a real `aftersales worker` (stopped again before anything is
measured); one link is taken, as a link is not single-use (HMAC-signed local links work for anyone until they
expire: the bench's service gives them an hour, to outlast any run), and GET by the bench's generator at its
concurrency. On S3 the link is presigned to the S3 server itself, so a download there measures moto, not the
service: one GET checks that it serves the photo, and the service's own part, issuing links
(`POST /v1/attachments/{id}/link`), is measured there instead."""

from __future__ import annotations

import asyncio
import hashlib
import random
import secrets
import struct
import sys
import tempfile
import time
import zlib
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

import httpx

from bench import process_stats, report
from bench.harness import WARMUP_SECONDS, Harness, run_worker, serve_service
from bench.load import Budget, PythonLoad, Result
from bench.s3_server import ACCESS_KEY, REGION, SECRET_KEY
from bench.scenarios import bearer_headers
from bench.server import HOST, Server, clean_environment, free_port, serving
from bench.traffic import Traffic

MB = 1_000_000
FILE_BYTES = 1000 * MB
WARM_BYTES = 1 * MB
PHOTO_BYTES = 100_000
CHUNK_BYTES = 1 << 20  # what the client sends at a time
RSS_GROWTH_TARGET = 64 * MB
RSS_POLL_SECONDS = 0.05
UPLOAD_SECONDS = 600.0  # a run's time cap: one upload, however slow
SCAN_WAIT_SECONDS = 30.0
LINK_TTL_SECONDS = 3600  # the download run reuses one link: it must outlast the warm-up and any --seconds
FORMS = {"local": ("raw", "multipart"), "s3": ("raw",)}
"""The multipart parse is measured on the local store; on S3 the stream's pace is the S3 server's (parts are sent
one at a time, each awaited, then completed and copied inside moto), and a second gigabyte there would add a minute
or more to learn what the local store shows."""
UPLOADS = "/v1/attachments"
BUCKET = "bench-attachments"
BOUNDARY = "bench-attachment-boundary"
FILLER_SEED = 16
NONCE_BYTES = 16
FTYP = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"isom", 0x200, b"isom", b"mp42")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@cache
def filler(size: int = CHUNK_BYTES) -> bytes:
    """The same pseudo-random bytes every run (seeded): incompressible, and free of the markers the type checks
    refuse (the unit tests hold it to that)."""
    return random.Random(FILLER_SEED).randbytes(size)


def mp4_chunks(size: int, nonce: bytes) -> Iterator[bytes]:
    """Exactly `size` bytes of an MP4, made as they are taken: the `ftyp` box, an `mdat` box whose 64-bit size spans
    the rest, the nonce, then the filler over and over (its last piece cut to fit)."""
    header = FTYP + struct.pack(">I4sQ", 1, b"mdat", size - len(FTYP)) + nonce
    if size < len(header):
        raise ValueError(f"an MP4 of {size} bytes cannot hold its {len(header)}-byte header")
    yield header
    left, block = size - len(header), filler()
    while left >= len(block):
        yield block
        left -= len(block)
    if left:
        yield block[:left]


def png_bytes(size: int, nonce: bytes) -> bytes:
    """Exactly `size` bytes of a PNG's structure: signature, IHDR (320×240 RGB), one IDAT of the nonce and filler
    (which no decoder would take for pixels; the service judges a file by its signature), IEND; every chunk with its
    CRC."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    start = PNG_SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", 320, 240, 8, 2, 0, 0, 0))
    end = chunk(b"IEND", b"")
    overhead = len(start) + 12 + len(nonce) + len(end)  # 12: the IDAT chunk's length, type and CRC
    if not overhead <= size <= overhead + len(filler()):
        raise ValueError(f"a bench PNG has {overhead} to {overhead + len(filler())} bytes, not {size}")
    data_bytes = size - overhead
    return start + chunk(b"IDAT", nonce + filler()[:data_bytes]) + end


def multipart_frame(file_name: str, content_type: str) -> tuple[bytes, bytes]:
    """What a multipart form puts before and after its one file part (the purpose field first, as fields go)."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nevidence\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    )
    return head.encode(), f"\r\n--{BOUNDARY}--\r\n".encode()


@dataclass(frozen=True, slots=True)
class MemoryTrace:
    """The server's resident memory over one upload: just before it, its sampled peak, the kernel's high-water
    marks (summed over the server's processes) before and after."""

    before: int
    sampled_peak: int
    samples: int
    high_water_before: int
    high_water_after: int

    @property
    def peak(self) -> int:
        """The sampled peak, or the high-water mark when the upload raised it: that one is exact."""
        if self.high_water_after > self.high_water_before:
            return max(self.sampled_peak, self.high_water_after)
        return self.sampled_peak

    @property
    def growth(self) -> int:
        return self.peak - self.before


class RssSampler:
    """Samples the processes of a server as they are when it is made; cheap reads, so the event loop that drives
    the upload barely notices."""

    def __init__(self, root: int) -> None:
        self._pids = process_stats.pids(root)
        self._high_water = self._high_water_now()
        self._before = process_stats.resident_bytes(self._pids)
        self._peak = self._before
        self._samples = 1

    def _high_water_now(self) -> int:
        return sum(process_stats.peak_resident_bytes(pid) for pid in self._pids)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(RSS_POLL_SECONDS)
            self._peak = max(self._peak, process_stats.resident_bytes(self._pids))
            self._samples += 1

    def trace(self) -> MemoryTrace:
        return MemoryTrace(self._before, self._peak, self._samples, self._high_water, self._high_water_now())


@dataclass(frozen=True, slots=True)
class UploadFigures:
    store: str
    form: str
    size: int
    result: Result
    observed: Observed

    @property
    def mb_per_second(self) -> float:
        elapsed = self.result.sample.elapsed
        return self.size / MB / elapsed if elapsed > 0 else 0.0

    @property
    def cpu_ms_per_mb(self) -> float:
        return self.result.server_cpu_seconds * 1000 / (self.size / MB)


@dataclass(frozen=True, slots=True)
class StoreFigures:
    store: str
    uploads: list[UploadFigures]
    downloads: Result | None  # local only: on S3 a link leads to the S3 server, not to the service
    links: Result | None  # S3 only: what the service does for a download there


@dataclass(frozen=True, slots=True)
class Observed:
    """What the bench saw of one upload besides its run's figures."""

    memory: MemoryTrace
    send_seconds: float  # from the request's start to its last byte sent: the stream's own pace
    answer_seconds: float  # from the last byte sent to the answer: what the store does once it has every byte
    store_cores: float | None  # the S3 server's share of the CPUs over the upload (None: the local store)


class _Upload:
    """One upload of a generated MP4 in one form, checked against what was sent; a traced one samples the
    server's memory while it streams, and the S3 server's CPU."""

    def __init__(
        self, client: httpx.AsyncClient, form: str, size: int, server: Server | None, store: Server | None
    ) -> None:
        self._client, self._form, self._size, self._server, self._store = client, form, size, server, store
        self.observed: list[Observed] = []

    async def __call__(self, index: int) -> httpx.Response:
        digest = hashlib.sha256()
        name = f"bench-video-{index}.mp4"
        head, tail = multipart_frame(name, "video/mp4") if self._form == "multipart" else (b"", b"")
        sent = []

        async def body() -> AsyncIterator[bytes]:
            yield head
            for chunk in mp4_chunks(self._size, secrets.token_bytes(NONCE_BYTES)):
                digest.update(chunk)
                yield chunk
            yield tail
            sent.append(time.perf_counter())  # asked for more only once the tail was written

        if self._form == "multipart":
            params, content_type = {}, f"multipart/form-data; boundary={BOUNDARY}"
        else:
            params, content_type = {"filename": name}, "video/mp4"
        headers = {"content-type": content_type, "content-length": str(len(head) + self._size + len(tail))}
        sampler = RssSampler(self._server.pid) if self._server is not None else None
        store_cpu = process_stats.cpu_seconds(self._store.pid) if self._store is not None else 0.0
        started = time.perf_counter()
        sampling = asyncio.create_task(sampler.run()) if sampler is not None else None
        try:
            response = await self._client.post(UPLOADS, params=params, content=body(), headers=headers)
        finally:
            if sampling is not None:
                sampling.cancel()
        answered = time.perf_counter()
        _check_stored(response, self._size, digest.hexdigest())
        if sampler is not None:
            store_cores = None
            if self._store is not None:
                store_cores = (process_stats.cpu_seconds(self._store.pid) - store_cpu) / (answered - started)
            self.observed.append(Observed(sampler.trace(), sent[0] - started, answered - sent[0], store_cores))
        return response


def _check_stored(response: httpx.Response, size: int, sha256: str) -> None:
    if response.status_code != 201:
        raise RuntimeError(f"POST {UPLOADS}: {response.status_code} {response.text[:300]}")
    stored = response.json()
    if (stored["size"], stored["sha256"]) != (size, sha256):
        raise RuntimeError(
            f"the service stored {stored['size']} bytes of SHA-256 {stored['sha256']}; "
            f"the bench sent {size} of {sha256}"
        )


async def measure(h: Harness) -> list[StoreFigures]:
    with tempfile.TemporaryDirectory(prefix="bench-attachments-") as directory:
        settings = {"AFTERSALES_STORAGE_BACKEND": "local", "AFTERSALES_STORAGE_DIR": directory}
        local = await _store(h, "local", settings, None)
    async with _s3_server() as (moto, settings):
        s3 = await _store(h, "s3", settings, moto)
    return [local, s3]


@asynccontextmanager
async def _s3_server() -> AsyncIterator[tuple[Server, dict[str, str]]]:
    """moto's server on a free port with the bench's bucket, and the service settings that point at it."""
    port = free_port()
    endpoint = f"http://{HOST}:{port}"
    async with serving(
        "S3 server (moto)",
        [sys.executable, "-m", "bench.s3_server", str(port), BUCKET],
        clean_environment({}),
        probe_url=f"{endpoint}/{BUCKET}",
        probe_status=200,
    ) as moto:
        yield (
            moto,
            {
                "AFTERSALES_STORAGE_BACKEND": "s3",
                "AFTERSALES_S3_ENDPOINT_URL": endpoint,
                "AFTERSALES_S3_BUCKET": BUCKET,
                "AFTERSALES_S3_REGION": REGION,
                "AFTERSALES_S3_ACCESS_KEY_ID": ACCESS_KEY,
                "AFTERSALES_S3_SECRET_ACCESS_KEY": SECRET_KEY,
                "AFTERSALES_S3_PATH_STYLE": "true",
            },
        )


async def _store(h: Harness, store: str, storage: Mapping[str, str], s3_server: Server | None) -> StoreFigures:
    settings = {
        **storage,
        "AFTERSALES_ATTACHMENT_VIDEO_MAX_BYTES": str(FILE_BYTES),
        "AFTERSALES_ATTACHMENT_SCANNER": "none",
        "AFTERSALES_ATTACHMENT_LINK_TTL_SECONDS": str(LINK_TTL_SECONDS),
    }
    port = free_port()
    url = f"http://{HOST}:{port}"
    headers = bearer_headers(h.secret)
    label = f"{store} store"
    async with (
        serve_service(
            port, h.database_url, h.secret, h.inbound_secret, name=f"service, {label}", settings=settings
        ) as server,
        httpx.AsyncClient(base_url=url, headers=headers, timeout=UPLOAD_SECONDS) as client,
    ):
        photo_id, photo = await _clean_photo(h, client, settings)
        uploads = [await _upload(h, server, s3_server, client, store, form) for form in FORMS[store]]
        link_path = f"{UPLOADS}/{photo_id}/link"
        link = (await _ok(await client.post(link_path))).json()["url"]
        downloads = links = None
        if store == "local":
            parts = urlsplit(link)
            download = Traffic("GET", (f"{parts.path}?{parts.query}",))
            downloads = await h.measure_traffic(f"download by signed link, {label}", server, url, download, download)
        else:
            await _check_presigned(link, photo)
            issue = Traffic("POST", (link_path,), headers)
            links = await h.measure_traffic(f"issue a download link, {label}", server, url, issue, issue)
        h.lines += report.memory([server])
    return StoreFigures(store, uploads, downloads, links)


async def _clean_photo(h: Harness, client: httpx.AsyncClient, settings: Mapping[str, str]) -> tuple[str, bytes]:
    """A photo uploaded and scanned by a real worker on the same store, which is stopped before anything is
    measured (its other jobs would share the machine)."""
    photo = png_bytes(PHOTO_BYTES, secrets.token_bytes(NONCE_BYTES))
    uploaded = await client.post(
        UPLOADS, params={"filename": "bench-photo.png"}, content=photo, headers={"content-type": "image/png"}
    )
    _check_stored(uploaded, len(photo), hashlib.sha256(photo).hexdigest())
    photo_id = uploaded.json()["id"]
    async with run_worker(h.database_url, settings):
        deadline = time.monotonic() + SCAN_WAIT_SECONDS
        while (status := (await _ok(await client.get(f"{UPLOADS}/{photo_id}"))).json()["scan_status"]) == "pending":
            if time.monotonic() > deadline:
                raise RuntimeError(f"the photo was still pending {SCAN_WAIT_SECONDS:.0f} s after a worker started")
            await asyncio.sleep(0.2)
    if status != "clean":
        raise RuntimeError(f"the photo was scanned {status}, not clean")
    return photo_id, photo


async def _upload(
    h: Harness, server: Server, s3_server: Server | None, client: httpx.AsyncClient, store: str, form: str
) -> UploadFigures:
    warm = PythonLoad(_Upload(client, form, WARM_BYTES, None, None))
    upload = _Upload(client, form, FILE_BYTES, server, s3_server)
    result = await h.measure(
        f"upload {FILE_BYTES // MB:,} MB video, {store} store, {form}",
        server,
        warm,
        PythonLoad(upload),
        Budget(1, UPLOAD_SECONDS, 1),
        Budget(1, WARMUP_SECONDS, 1),
    )
    return UploadFigures(store, form, FILE_BYTES, result, upload.observed[0])


async def _check_presigned(link: str, photo: bytes) -> None:
    async with httpx.AsyncClient(timeout=30) as plain:
        served = await plain.get(link)
    if served.status_code != 200 or served.content != photo:
        raise RuntimeError(f"the presigned link answered {served.status_code} and {len(served.content)} bytes")


async def _ok(response: httpx.Response) -> httpx.Response:
    if not response.is_success:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text[:300]}"
        )
    return response


def _mb(size: int) -> str:
    return f"{size / MB:.1f} MB"


def _run(result: Result) -> str:
    return (
        f"{result.rate:.0f}/s, p50 {result.percentile_ms(50):.1f} / p99 {result.percentile_ms(99):.1f} ms, "
        f"server CPU {result.cpu_ms_per_request:.2f} ms each"
    )


def lines(stores: list[StoreFigures]) -> list[str]:
    out = []
    for figures in stores:
        for u in figures.uploads:
            m, store_cores = u.observed.memory, u.observed.store_cores
            out.append(
                f"upload of {u.size // MB:,} MB ({u.form}), {u.store} store: {u.mb_per_second:.0f} MB/s "
                f"({u.result.sample.elapsed:.1f} s: sent in {u.observed.send_seconds:.1f} s, "
                f"{u.size / MB / u.observed.send_seconds:.0f} MB/s, answered {u.observed.answer_seconds:.2f} s after "
                "the last byte), "
                f"server CPU {u.cpu_ms_per_mb:.2f} ms per MB; server RSS "
                f"{_mb(m.before)} before the stream, peak {_mb(m.peak)}, growth {_mb(m.growth)} (target < "
                f"{_mb(RSS_GROWTH_TARGET)}: {'met' if m.growth < RSS_GROWTH_TARGET else 'MISSED'}; {m.samples} "
                f"samples every {RSS_POLL_SECONDS * 1000:.0f} ms, high-water mark {_mb(m.high_water_before)} → "
                f"{_mb(m.high_water_after)})"
                + ("" if store_cores is None else f"; the S3 server (moto) used {store_cores:.2f} cores meanwhile")
            )
        if figures.downloads is not None:
            out.append(
                f"downloads by signed link, {figures.store} store ({PHOTO_BYTES // 1000} KB PNG, one reusable link): "
                + _run(figures.downloads)
            )
        if figures.links is not None:
            out.append(
                f"downloads by signed link, {figures.store} store: not measured, the presigned link leads to the S3 "
                "server (moto), not to the service (one GET of it served the photo); the service's part, links "
                "issued: " + _run(figures.links)
            )
    return out


def failures(stores: list[StoreFigures]) -> list[str]:
    return [
        f"FAILED the server's RSS grew by {_mb(u.observed.memory.growth)} while a {u.size // MB:,} MB {u.form} upload "
        f"streamed into the {u.store} store (target < {_mb(RSS_GROWTH_TARGET)})"
        for figures in stores
        for u in figures.uploads
        if u.observed.memory.growth >= RSS_GROWTH_TARGET
    ]
