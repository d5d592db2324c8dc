"""Lambda entry point of the secret rotation (invoked by Secrets Manager in the primary region).

The event is validated before any AWS call; the secret's rotation state is then checked with
read-only calls before any step changes anything.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

from drcommon import db
from drcommon.observability import get_logger
from secret_rotation import SERVICE
from secret_rotation.events import parse_event
from secret_rotation.rotation import Rotator
from secret_rotation.settings import Settings

logger = get_logger("secret-rotation")

AWS_CONFIG = Config(
    connect_timeout=5, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"}
)


def build_rotator(settings: Settings) -> Rotator:
    """A Rotator wired to real AWS clients and verified-TLS database connections."""
    connect = db.connector(
        SERVICE, timeout=settings.connect_timeout_seconds, ca_bundle=settings.ca_bundle
    )

    @lru_cache(maxsize=4)
    def rds_for_region(region: str) -> Any:
        """An RDS client for `region` (the writer may be in either region)."""
        return boto3.client(
            "rds",
            region_name=region,
            endpoint_url=settings.rds_endpoint_urls.get(region),
            config=AWS_CONFIG,
        )

    return Rotator(
        settings,
        secretsmanager=boto3.client(
            "secretsmanager", region_name=settings.local_region, config=AWS_CONFIG
        ),
        rds_for_region=rds_for_region,
        connect=connect,
    )


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run one rotation step (`createSecret`, `setSecret`, `testSecret` or `finishSecret`)."""
    rotation_event = parse_event(event)
    settings = Settings.from_env()
    logger.append_keys(step=rotation_event.step, secretId=rotation_event.secret_id)
    return build_rotator(settings).rotate(rotation_event).as_dict()
