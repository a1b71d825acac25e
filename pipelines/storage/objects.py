"""Object storage through boto3: one client factory, used by every deployment."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

from pipelines.config import S3Settings

__all__ = ["bucket_exists", "delta_storage_options", "ensure_bucket", "s3_client"]


@cache
def s3_client(s3: S3Settings) -> Any:
    """A thread-safe S3 client with explicit credentials (never the metadata service).

    Timestamps in responses (``LastModified`` and the like) stay the strings the server sent:
    nothing here reads them, and parsing one per listed object was half of a listing's CPU time.
    """
    core = botocore.session.get_session()
    core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=str)
    session = boto3.session.Session(
        aws_access_key_id=s3.access_key_id,
        aws_secret_access_key=s3.secret_access_key,
        region_name=s3.region,
        botocore_session=core,
    )
    return session.client(
        "s3",
        endpoint_url=s3.endpoint_url or None,
        config=Config(
            max_pool_connections=s3.max_pool_connections,
            retries={"max_attempts": 5, "mode": "standard"},
            s3={"addressing_style": "path"},
            connect_timeout=5,
            read_timeout=60,
        ),
    )


def bucket_exists(s3: S3Settings, bucket: str) -> bool:
    try:
        s3_client(s3).head_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
        return False
    return True


def ensure_bucket(s3: S3Settings, bucket: str) -> None:
    """Create ``bucket`` if it does not exist yet."""
    if not bucket_exists(s3, bucket):
        s3_client(s3).create_bucket(Bucket=bucket)


def delta_storage_options(s3: S3Settings) -> dict[str, str]:
    """The same endpoint and credentials, in the form delta-rs (object_store) takes."""
    options = {
        "AWS_ACCESS_KEY_ID": s3.access_key_id,
        "AWS_SECRET_ACCESS_KEY": s3.secret_access_key,
        "AWS_REGION": s3.region,
        "AWS_S3_ALLOW_UNSAFE_RENAME": "true",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if s3.endpoint_url:
        options["AWS_ENDPOINT_URL"] = s3.endpoint_url
        options["AWS_ALLOW_HTTP"] = str(s3.endpoint_url.startswith("http://")).lower()
        options["AWS_VIRTUAL_HOSTED_STYLE_REQUEST"] = "false"
    return options
