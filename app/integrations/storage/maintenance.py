"""Whole-store jobs behind `aftersales attachments verify` and `move`: both walk digests in ascending order, so either
may be stopped and resumed (verify after the last digest it did; move by skipping what the target already has)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from enum import StrEnum

from app.integrations.storage import BlobCorrupt, BlobMissing, BlobStore


class Outcome(StrEnum):
    OK = "ok"  # verify: the bytes hash to their name
    COPIED = "copied"
    SKIPPED = "skipped"  # move: the target already holds it
    MISMATCH = "mismatch"  # the bytes do not hash to their name
    MISSING = "missing"  # listed, then gone before it could be read (deleted meanwhile)


@dataclass
class Tally:
    """How a run went; `last` is the greatest digest done, from which `verify` resumes."""

    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    problems: list[tuple[str, Outcome]] = field(default_factory=list)
    last: str | None = None

    def add(self, sha256: str, outcome: Outcome) -> None:
        self.counts[outcome] += 1
        if outcome in (Outcome.MISMATCH, Outcome.MISSING):
            self.problems.append((sha256, outcome))


Progress = Callable[[str, Outcome, int], None]  # digest, outcome, bytes read


async def count(store: BlobStore, *, after: str | None = None) -> int:
    return sum([1 async for _ in store.digests(after=after)])


async def verify(store: BlobStore, *, after: str | None = None, progress: Progress) -> Tally:
    """Re-hash every blob after `after`, one at a time and in order (so `last` is a sound place to resume)."""
    tally = Tally()
    async for sha256 in store.digests(after=after):
        read = _Read()
        try:
            async for _ in _checked(store, sha256, read):
                pass
            outcome = Outcome.OK
        except BlobCorrupt:
            outcome = Outcome.MISMATCH
        except BlobMissing:
            outcome = Outcome.MISSING
        tally.add(sha256, outcome)
        tally.last = sha256
        progress(sha256, outcome, read.size)
    return tally


async def move(source: BlobStore, target: BlobStore, *, concurrency: int, progress: Progress) -> Tally:
    """Copy every blob the target lacks, each checked against its digest as it arrives: a blob that does not hash
    to its name is refused midway by the target and reported, never stored."""
    tally = Tally()
    slots = asyncio.Semaphore(concurrency)

    async def copy(sha256: str) -> None:
        try:
            if await target.exists(sha256):
                tally.add(sha256, Outcome.SKIPPED)
                progress(sha256, Outcome.SKIPPED, 0)
                return
            read = _Read()
            try:
                await target.put(_checked(source, sha256, read), limit=await source.size(sha256))
                outcome = Outcome.COPIED
            except BlobCorrupt:
                outcome = Outcome.MISMATCH
            except BlobMissing:
                outcome = Outcome.MISSING
            tally.add(sha256, outcome)
            progress(sha256, outcome, read.size)
        finally:
            slots.release()

    async with asyncio.TaskGroup() as group:
        async for sha256 in source.digests():
            await slots.acquire()  # at most `concurrency` copies (and their buffers) in flight
            group.create_task(copy(sha256))
    return tally


@dataclass
class _Read:
    size: int = 0


async def _checked(store: BlobStore, sha256: str, read: _Read) -> AsyncIterator[bytes]:
    """A blob's chunks, hashed as they pass; `BlobCorrupt` instead of the end when they do not hash to its name."""
    digest = hashlib.sha256()
    async for chunk in store.read(sha256, chunk_size=1 << 20):
        digest.update(chunk)
        read.size += len(chunk)
        yield chunk
    if digest.hexdigest() != sha256:
        raise BlobCorrupt(sha256)
