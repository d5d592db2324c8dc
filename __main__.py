"""aurora-dr: an Aurora PostgreSQL global database that survives the loss of a region.

Wiring only: settings -> providers -> keys -> networks -> peering -> database -> exports. Every decision lives
in config.py, sizing.py, naming.py and the components.
"""

import pulumi
import pulumi_aws as aws

from components.global_aurora import GlobalAurora, GlobalAuroraArgs, RegionPlacement
from components.network import Network, NetworkArgs
from components.peered_vpcs import PeeredVpcs, PeeredVpcsArgs
from components.region_key import RegionKey, RegionKeyArgs
from config import load_settings
from naming import stack_tags
from sizing import SIZING

settings = load_settings()
sizing = SIZING[settings.sizing]
tags = stack_tags(settings)

# One explicit provider per region rather than pulumi-aws 7's per-resource `region=`: a component
# receives its region once (through `providers`), a forgotten argument cannot silently land a DR
# resource in the primary region, and the tags ride on each provider's default_tags.
providers = {
    role: aws.Provider(
        f"{role}-region",
        region=region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=tags),
    )
    for role, region in (("primary", settings.primary_region), ("dr", settings.dr_region))
}
regions = {"primary": settings.primary_region, "dr": settings.dr_region}
vpc_cidrs = {"primary": settings.primary_vpc_cidr, "dr": settings.dr_vpc_cidr}

identity = aws.get_caller_identity(opts=pulumi.InvokeOptions(provider=providers["primary"]))
partition = aws.get_partition(opts=pulumi.InvokeOptions(provider=providers["primary"])).partition

keys = {
    role: RegionKey(
        f"{role}-key",
        RegionKeyArgs(
            environment_suffix=settings.environment_suffix,
            region=regions[role],
            account_id=identity.account_id,
            partition=partition,
            deletion_window_days=sizing.kms_deletion_window_days,
            protect=sizing.protect,
        ),
        opts=pulumi.ResourceOptions(providers=[providers[role]]),
    )
    for role in regions
}

networks = {
    role: Network(
        f"{role}-network",
        NetworkArgs(
            environment_suffix=settings.environment_suffix,
            region=regions[role],
            vpc_cidr=vpc_cidrs[role],
            az_count=sizing.az_count,
            endpoint_az_count=sizing.endpoint_az_count,
            flow_log_retention_days=sizing.flow_log_retention_days,
            kms_key_arn=keys[role].arn,
        ),
        opts=pulumi.ResourceOptions(providers=[providers[role]]),
    )
    for role in regions
}

peering = PeeredVpcs(
    "peering",
    PeeredVpcsArgs(
        environment_suffix=settings.environment_suffix,
        requester=networks["primary"],
        requester_region=settings.primary_region,
        requester_provider=providers["primary"],
        accepter=networks["dr"],
        accepter_region=settings.dr_region,
        accepter_provider=providers["dr"],
    ),
)

placements = {
    role: RegionPlacement(
        region=regions[role],
        provider=providers[role],
        subnet_ids=networks[role].subnet_ids,
        availability_zones=networks[role].availability_zones,
        security_group_id=networks[role].db_security_group.id,
        kms_key_arn=keys[role].arn,
    )
    for role in regions
}
database = GlobalAurora(
    "database",
    GlobalAuroraArgs(
        environment_suffix=settings.environment_suffix,
        engine_version=settings.engine_version,
        database_name=settings.database_name,
        master_username=settings.master_username,
        sizing=sizing,
        primary=placements["primary"],
        secondary=placements["dr"],
        partition=partition,
    ),
    opts=pulumi.ResourceOptions(depends_on=[peering]),
)

pulumi.export("primaryRegion", settings.primary_region)
pulumi.export("drRegion", settings.dr_region)
pulumi.export("primaryVpcId", networks["primary"].vpc.id)
pulumi.export("drVpcId", networks["dr"].vpc.id)
pulumi.export("primaryKmsKeyArn", keys["primary"].arn)
pulumi.export("drKmsKeyArn", keys["dr"].arn)
pulumi.export("peeringConnectionId", peering.connection_id)
pulumi.export("globalClusterId", database.global_cluster.id)
pulumi.export("globalWriterEndpoint", database.global_writer_endpoint)
pulumi.export("primaryClusterEndpoint", database.primary_cluster.endpoint)
pulumi.export("primaryReaderEndpoint", database.primary_cluster.reader_endpoint)
pulumi.export("drClusterEndpoint", database.secondary_cluster.endpoint)
pulumi.export("drReaderEndpoint", database.secondary_cluster.reader_endpoint)
pulumi.export("secretArn", database.secret.arn)
