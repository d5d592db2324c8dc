"""Where a drill's results are kept: a JSON file, CloudWatch metrics and the DR backup bucket."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from drctl.clients import ClientFactory
from drctl.outputs import StackOutputs
from lambdas.drcommon import contract, reports


def write_file(path: Path, document: dict[str, Any]) -> None:
    """The artifact (`drplan --results FILE` reads it)."""
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def metric_data(document: dict[str, Any], environment: str) -> list[dict[str, Any]]:
    """One datapoint per direction and measure (unmeasured values are left out)."""
    data = []
    for direction in document["directions"]:
        dimensions = [
            {"Name": contract.DIMENSION_ENVIRONMENT, "Value": environment},
            {"Name": "Direction", "Value": direction["direction"]},
            {"Name": "Scenario", "Value": direction["scenario"]},
        ]
        values = {
            "WriteUnavailableSeconds": (direction["measuredUnavailableSeconds"], "Seconds"),
            "RowsLost": (direction["rowsLost"], "Count"),
        }
        for name, (value, unit) in values.items():
            if value is not None:
                data.append(
                    {
                        "MetricName": name,
                        "Dimensions": dimensions,
                        "Value": float(value),
                        "Unit": unit,
                    }
                )
    return data


def publish(factory: ClientFactory, outputs: StackOutputs, document: dict[str, Any]) -> list[str]:
    """Metrics and the stored report, in the DR region; what happened to each, for the operator."""
    region = outputs.dr_region
    notes = []
    data = metric_data(document, outputs.environment)
    try:
        if data:
            factory("cloudwatch", region).put_metric_data(
                Namespace=contract.DRILL_NAMESPACE, MetricData=data
            )
        notes.append(f"metrics: {len(data)} datapoints in {contract.DRILL_NAMESPACE} ({region})")
    except (ClientError, BotoCoreError) as exc:
        notes.append(f"metrics NOT published: {exc}")
    bucket = outputs.backup_buckets.get(region)
    if bucket:
        when = dt.datetime.fromtimestamp(document["startedAt"], dt.UTC)
        key = reports.report_key(contract.BACKUP_BUCKET.drill_reports, when, document["runId"])
        notes.append(reports.store_report(factory("s3", region), bucket, key, document).detail)
    return notes
