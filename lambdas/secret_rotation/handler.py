"""Lambda entry point of the secret rotation (invoked by Secrets Manager in the primary region).

The event is validated before any AWS call; the secret's rotation state is then checked with
read-only calls before any step changes anything.
"""

from __future__ import annotations

from typing import Any

from drcommon import db
from drcommon.aws import BotoClientFactory, ClientFactory, LambdaContext, client_config
from drcommon.observability import get_logger
from secret_rotation import SERVICE
from secret_rotation.events import parse_event
from secret_rotation.rotation import Rotator
from secret_rotation.settings import Settings

logger = get_logger(SERVICE)

# Module level so warm invocations reuse clients; tests replace it. (No CLOCK: the rotation
# neither waits nor dates anything.) Secrets Manager calls: connect 5 s, read 10 s, 4 attempts.
CLIENT_FACTORY: ClientFactory = BotoClientFactory(
    config=client_config(connect_timeout=5.0, read_timeout=10.0, max_attempts=4)
)


def build_rotator(settings: Settings) -> Rotator:
    """A Rotator wired to `CLIENT_FACTORY` (Secrets Manager through its interface endpoint) and
    verified-TLS database connections to the global writer endpoint."""
    return Rotator(
        settings,
        secretsmanager=CLIENT_FACTORY("secretsmanager", settings.local_region),
        connect=db.connector(
            SERVICE, timeout=settings.connect_timeout_seconds, ca_bundle=settings.ca_bundle
        ),
    )


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Run one rotation step (`createSecret`, `setSecret`, `testSecret` or `finishSecret`)."""
    rotation_event = parse_event(event)
    settings = Settings.from_env()
    logger.append_keys(step=rotation_event.step, secretId=rotation_event.secret_id)
    return build_rotator(settings).rotate(rotation_event).as_dict()
