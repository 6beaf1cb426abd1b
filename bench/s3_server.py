"""`python -m bench.s3_server PORT BUCKET`: a local S3-compatible server (moto's, from the dev extras) with one empty
bucket, until SIGTERM. Its own process, so that what it spends on the bytes it keeps is not the bench's; quiet, as
its HTTP server would log every request otherwise."""

from __future__ import annotations

import logging
import sys
import threading

import boto3  # moto's own dependency: a plain client, independent of the store under test
from moto.server import ThreadedMotoServer

from bench.server import HOST

ACCESS_KEY = "bench-access-key"
SECRET_KEY = "bench-secret-key"
REGION = "us-east-1"


def main(port: int, bucket: str) -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    admin = boto3.client(
        "s3",
        endpoint_url=f"http://{HOST}:{port}",
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    admin.create_bucket(Bucket=bucket)
    threading.Event().wait()  # the server thread serves; SIGTERM ends the process


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
