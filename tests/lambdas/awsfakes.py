"""Shapes of RDS answers moto cannot give (writer in either region, failover state), for Stubber."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.stub import Stubber

ACCOUNT = "123456789012"
PRIMARY_REGION = "us-east-1"
DR_REGION = "us-west-2"
GLOBAL_CLUSTER_ID = "gdb-test"


def cluster_arn(region: str) -> str:
    """The ARN of the test member cluster in `region`."""
    return f"arn:aws:rds:{region}:{ACCOUNT}:cluster:aurora-{region}"


def global_cluster_response(
    writer_region: str | None,
    *,
    failover_status: str | None = None,
    identifier: str = GLOBAL_CLUSTER_ID,
) -> dict[str, Any]:
    """A `describe_global_clusters` answer with members in both regions (writer as given)."""
    cluster: dict[str, Any] = {
        "GlobalClusterIdentifier": identifier,
        "GlobalClusterArn": f"arn:aws:rds::{ACCOUNT}:global-cluster:{identifier}",
        "Status": "available",
        "Engine": "aurora-postgresql",
        "GlobalClusterMembers": [
            {
                "DBClusterArn": cluster_arn(region),
                "IsWriter": region == writer_region,
                "Readers": [],
                "SynchronizationStatus": "connected",
            }
            for region in (PRIMARY_REGION, DR_REGION)
        ],
    }
    if failover_status:
        cluster["FailoverState"] = {
            "Status": failover_status,
            "FromDbClusterArn": cluster_arn(PRIMARY_REGION),
            "ToDbClusterArn": cluster_arn(DR_REGION),
        }
    return {"GlobalClusters": [cluster]}


def db_cluster_response(region: str, host: str, port: int) -> dict[str, Any]:
    """A `describe_db_clusters` answer for the member in `region` with the given endpoint."""
    return {
        "DBClusters": [
            {
                "DBClusterIdentifier": f"aurora-{region}",
                "DBClusterArn": cluster_arn(region),
                "Endpoint": host,
                "ReaderEndpoint": host,
                "Port": port,
                "Status": "available",
            }
        ]
    }


def stubbed_client(service: str, region: str) -> tuple[Any, Stubber]:
    """A real botocore client (fake credentials) with an activated Stubber."""
    client = boto3.client(
        service,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber
