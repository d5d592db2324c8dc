"""Publishing a JSON summary to a region's alert topic, the one way every function does it."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

# SNS rejects longer subjects: "Subjects must be UTF-8 text with no line breaks or control
# characters, and less than 100 characters long" (SNS API reference, Publish, Subject).
MAX_SUBJECT_CHARS = 99


def publish_summary(
    sns: Any, topic_arn: str, *, subject: str, summary: dict[str, Any]
) -> str | None:
    """Publish `summary` (indented JSON) under `subject`; None when sent, else why not.

    Never raises for an AWS error: a notification that cannot be sent must not turn the outcome
    it reports into another one. The caller logs the reason.
    """
    try:
        sns.publish(
            TopicArn=topic_arn,
            Subject=subject[:MAX_SUBJECT_CHARS],
            Message=json.dumps(summary, indent=2, sort_keys=True, default=str),
        )
    except (ClientError, BotoCoreError) as exc:
        return str(exc)
    return None
