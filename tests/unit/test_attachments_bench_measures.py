"""The attachments bench's made files and verdicts: the generated video and photo are what the service's type checks
take, byte for byte the size asked; the multipart frame parses as a form; the memory verdict reads the growth over
the resident set before the stream, trusting the kernel's high-water mark when the stream raised it."""

from __future__ import annotations

import struct
import zlib

import pytest
from python_multipart.multipart import MultipartParser

from app.domain.file_types import ALLOWED, HEAD_BYTES, TAIL_BYTES, FieldAt, check_content
from bench.attachments_bench import (
    BOUNDARY,
    CHUNK_BYTES,
    MB,
    PNG_SIGNATURE,
    RSS_GROWTH_TARGET,
    MemoryTrace,
    Observed,
    StoreFigures,
    UploadFigures,
    failures,
    lines,
    mp4_chunks,
    multipart_frame,
    png_bytes,
)
from bench.load import GeneratorUse, Result, Sample

NONCE = b"n" * 16
CONTENT = FieldAt("/file", "body")


def _ends(chunks: list[bytes]) -> tuple[bytes, bytes, int]:
    whole = b"".join(chunks)
    return whole[:HEAD_BYTES], whole[-TAIL_BYTES:], len(whole)


@pytest.mark.parametrize("size", [HEAD_BYTES, CHUNK_BYTES, 3 * CHUNK_BYTES + 17])
def test_the_generated_video_has_the_size_asked_and_passes_as_an_mp4(size: int) -> None:
    chunks = list(mp4_chunks(size, NONCE))
    head, tail, total = _ends(chunks)

    assert total == size
    assert head[4:12] == b"ftypisom"
    box_size, kind, large_size = struct.unpack(">I4sQ", head[24:40])
    assert (box_size, kind, 24 + large_size) == (1, b"mdat", size)  # one mdat box spans the rest
    assert max(len(chunk) for chunk in chunks) <= CHUNK_BYTES
    check_content(ALLOWED["mp4"], head, tail, total, CONTENT)


def test_two_nonces_make_two_different_videos() -> None:
    first, second = (b"".join(mp4_chunks(HEAD_BYTES, nonce)) for nonce in (b"a" * 16, b"b" * 16))

    assert first != second


def test_a_video_too_small_for_its_header_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        list(mp4_chunks(40, NONCE))


def test_the_generated_photo_is_a_png_of_the_size_asked_with_valid_chunks() -> None:
    photo = png_bytes(100_000, NONCE)

    assert len(photo) == 100_000
    assert photo.startswith(PNG_SIGNATURE)
    at, kinds = len(PNG_SIGNATURE), []
    while at < len(photo):
        (length,) = struct.unpack(">I", photo[at : at + 4])
        kind, data = photo[at + 4 : at + 8], photo[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", photo[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + data)
        kinds.append(kind)
        at += 12 + length
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]
    check_content(ALLOWED["png"], photo[:HEAD_BYTES], photo[-TAIL_BYTES:], len(photo), CONTENT)


@pytest.mark.parametrize("size", [40, 2 * CHUNK_BYTES])
def test_a_photo_too_small_for_its_chunks_or_larger_than_the_filler_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match=f"a bench PNG has .* bytes, not {size}"):
        png_bytes(size, NONCE)


def test_the_multipart_frame_parses_as_a_purpose_field_and_a_file_part() -> None:
    head, tail = multipart_frame("video.mp4", "video/mp4")
    parts: list[bytearray] = []
    headers: list[bytes] = []
    ended = []
    parser = MultipartParser(
        BOUNDARY,
        {
            "on_part_begin": lambda: parts.append(bytearray()),
            "on_part_data": lambda data, start, end: parts[-1].extend(data[start:end]),
            "on_header_value": lambda data, start, end: headers.append(bytes(data[start:end])),
            "on_end": lambda: ended.append(True),
        },
    )

    parser.write(head + b"VIDEO" + tail)

    assert [bytes(part) for part in parts] == [b"evidence", b"VIDEO"]
    assert headers[1:] == [b'form-data; name="file"; filename="video.mp4"', b"video/mp4"]
    assert ended == [True]


def _trace(before: int, sampled: int, high_before: int, high_after: int) -> MemoryTrace:
    return MemoryTrace(before, sampled, 10, high_before, high_after)


def test_the_growth_is_the_sampled_peak_over_the_start_when_the_high_water_mark_stayed() -> None:
    trace = _trace(160 * MB, 170 * MB, 200 * MB, 200 * MB)  # start-up peaked higher than the stream

    assert (trace.peak, trace.growth) == (170 * MB, 10 * MB)


def test_a_peak_between_samples_is_read_from_the_raised_high_water_mark() -> None:
    trace = _trace(160 * MB, 170 * MB, 165 * MB, 190 * MB)

    assert (trace.peak, trace.growth) == (190 * MB, 30 * MB)


def _upload(growth: int, store: str = "local") -> UploadFigures:
    sample = Sample(1, 0, 4.0, {50: 4000.0, 99: 4000.0}, None, GeneratorUse("python", 1, 0.5, 4.0))
    result = Result("upload", "service", sample, 3.0)
    observed = Observed(_trace(160 * MB, 160 * MB + growth, 0, 0), 3.5, 0.5, None)
    return UploadFigures(store, "raw", 1000 * MB, result, observed)


def test_throughput_and_cpu_are_per_megabyte_of_the_file() -> None:
    upload = _upload(0)

    assert (upload.mb_per_second, upload.cpu_ms_per_mb) == (250.0, 3.0)


def test_growth_at_the_target_fails_and_below_it_passes() -> None:
    links = _upload(0).result
    stores = [
        StoreFigures("local", [_upload(RSS_GROWTH_TARGET - 1)], links, None),
        StoreFigures("s3", [_upload(RSS_GROWTH_TARGET, "s3")], None, links),
    ]

    found = failures(stores)

    assert len(found) == 1
    assert found[0].startswith("FAILED the server's RSS grew by 64.0 MB") and "s3 store" in found[0]
    assert sum("MISSED" in line for line in lines(stores)) == 1
