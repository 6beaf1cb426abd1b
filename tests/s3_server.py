"""A real S3-compatible HTTP server for the tests (moto's, from PyPI), one per test process, on a free local port.

What it enforces, measured: the S3 API itself (multipart uploads, copies with a computed SHA-256, listings, ranges)
over real HTTP. What it does not: signatures and expiry of presigned links, POST policy conditions (size range,
checksum) and checksums sent with a PutObject. Tests of those promises check what is signed instead, and the
store checks sizes and hashes itself."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3  # moto's own dependency: a plain client of our own, independent of the store under test
from moto.server import ThreadedMotoServer

from app.integrations.storage.s3 import S3BlobStore

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"
BUCKET = "attachments"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    admin: Any  # a synchronous boto3 client: the server runs in its own thread, so blocking on it is harmless

    def store(self, *, prefix: str | None = None) -> S3BlobStore:
        """A store in the shared bucket under a prefix of its own, so that tests never see each other's objects."""
        return S3BlobStore(
            bucket=BUCKET,
            endpoint_url=self.endpoint_url,
            region=REGION,
            access_key_id=ACCESS_KEY,
            secret_access_key=SECRET_KEY,
            path_style=True,
            prefix=prefix if prefix is not None else f"t-{uuid.uuid4().hex}/",
        )


@cache
def running_server() -> S3Server:
    """Started on first use and left to run until the test process exits (its thread is a daemon)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint_url = f"http://{host}:{port}"
    admin = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    admin.create_bucket(Bucket=BUCKET)
    return S3Server(endpoint_url, admin)


def everything_in(server: S3Server, prefix: str) -> list[str]:
    """Every object under `prefix` and every multipart upload there not yet completed or aborted."""
    objects = server.admin.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", ())
    uploads = server.admin.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix).get("Uploads", ())
    return sorted(
        [item["Key"][len(prefix) :] for item in objects] + [f"multipart:{u['Key'][len(prefix) :]}" for u in uploads]
    )
