"""Post-deploy: `writer.<zone>`, resolved inside each VPC, leads to the current writer cluster."""

from __future__ import annotations

import pytest

from tests.integration.deployed import (
    HEALTH_CHECKER_READ_TIMEOUT,
    Aws,
    DeployedStack,
    writer_of,
)


def normalised(name: str) -> str:
    """DNS names compare case-insensitively and without the root dot."""
    return name.lower().removesuffix(".")


@pytest.mark.parametrize("region_output", ["primaryRegion", "drRegion"])
def test_the_writer_record_names_the_current_writer_cluster(
    deployed: DeployedStack, aws: Aws, region_output: str
):
    """GIVEN the writer cluster's endpoint as RDS reports it now WHEN the health checker resolves
    writer.<zone> inside this region's VPC THEN the CNAME chain goes through that endpoint, and
    not through the other cluster's."""
    writer = writer_of(aws.global_cluster(deployed))
    writer_endpoint = normalised(aws.cluster_endpoint(writer))
    cluster_endpoints = {
        normalised(deployed.output("primaryClusterEndpoint")),
        normalised(deployed.output("drClusterEndpoint")),
    }
    assert writer_endpoint in cluster_endpoints, (writer_endpoint, cluster_endpoints)
    (other_endpoint,) = cluster_endpoints - {writer_endpoint}
    name = normalised(deployed.output("writerDnsName"))

    region = deployed.output(region_output)
    answer = aws.invoke(
        deployed.function_arn("health_checker", region),
        {"resolve": [name]},
        read_timeout=HEALTH_CHECKER_READ_TIMEOUT,
    )

    resolved = answer["resolved"][name]
    assert "error" not in resolved, f"{name} from {region}: {resolved}"
    assert resolved["addresses"], f"{name} from {region} has no address: {resolved}"
    chain = [normalised(link) for link in resolved["chain"]]
    assert writer_endpoint in chain, (
        f"{name} from {region} does not lead to {writer_endpoint}: {chain}"
    )
    assert other_endpoint not in chain, f"{name} from {region} leads to the non-writer: {chain}"
