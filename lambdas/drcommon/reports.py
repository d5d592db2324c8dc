"""Storing a run's report as one JSON object in a backup bucket.

The backup verifier stores each verification report this way (the drill will store its results
the same way). The object takes the bucket's default encryption (SSE-KMS with the region's key
and an S3 Bucket Key), so the writer needs `s3:PutObject` on its prefix and the key's data key,
nothing else. Storing never raises: a report that could not be stored is itself reported, and
the run's verdict stands.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class StoredReport:
    """Where a report went, or why it did not."""

    ok: bool
    bucket: str
    key: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def report_key(prefix: str, when: datetime, run_name: str) -> str:
    """`<prefix><yyyy>/<mm>/<dd>/<HHMMSS>-<run name>.json`: one object per run, listed by day.

    `prefix` ends with `/` (the contract's prefixes do); `run_name` identifies the run (e.g.
    the Lambda request id) so two runs in one second never overwrite each other."""
    if not prefix.endswith("/"):
        raise ValueError(f"a report prefix ends with '/', got {prefix!r}")
    return f"{prefix}{when:%Y/%m/%d/%H%M%S}-{run_name}.json"


def store_report(s3: Any, bucket: str, key: str, document: Mapping[str, Any]) -> StoredReport:
    """Put `document` as JSON at `s3://bucket/key`; the outcome, never an exception from AWS."""
    body = json.dumps(document, sort_keys=True, default=str).encode()
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=CONTENT_TYPE)
    except (ClientError, BotoCoreError) as exc:
        return StoredReport(False, bucket, key, f"the report could not be stored: {exc}")
    return StoredReport(True, bucket, key, f"stored as s3://{bucket}/{key}")
