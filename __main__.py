"""aurora-dr: an Aurora PostgreSQL global database that survives the loss of a region.

Wiring only: settings -> providers -> keys -> networks -> peering -> database -> monitoring
-> DNS -> DR automation -> exports. Every decision lives
in config.py, sizing.py, naming.py and the components.
"""

import pulumi
import pulumi_aws as aws

from components.dashboard import Dashboard, DashboardArgs, DashboardRegion
from components.dr_automation import DrAutomation, DrAutomationArgs, RegionContext
from components.failover_dns import (
    FailoverDns,
    FailoverDnsArgs,
    FailoverRecord,
    FailoverTarget,
    ZoneVpc,
)
from components.global_aurora import GlobalAurora, GlobalAuroraArgs, RegionPlacement
from components.monitoring import MonitoredInstance, Monitoring, MonitoringArgs
from components.network import Network, NetworkArgs
from components.peered_vpcs import PeeredVpcs, PeeredVpcsArgs
from components.region_key import RegionKey, RegionKeyArgs
from decisions import functions as automation
from lambdas.drcommon import contract
from stack.config import load_settings
from stack.naming import stack_tags
from stack.sizing import SIZING

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
            endpoint_services=automation.endpoint_services_for(role),
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

clusters = {"primary": database.primary_cluster, "dr": database.secondary_cluster}
instances = {"primary": database.primary_instances, "dr": database.secondary_instances}
peer_role = {"primary": "dr", "dr": "primary"}
monitoring = {
    role: Monitoring(
        f"{role}-monitoring",
        MonitoringArgs(
            environment_suffix=settings.environment_suffix,
            region=regions[role],
            peer_region=regions[peer_role[role]],
            account_id=identity.account_id,
            kms_key_arn=keys[role].arn,
            sizing=sizing,
            cluster_identifier=clusters[role].cluster_identifier,
            instances=[
                MonitoredInstance(label=f"db{index + 1}", identifier=instance.identifier)
                for index, instance in enumerate(instances[role])
            ],
            alert_email=settings.alert_email,
        ),
        opts=pulumi.ResourceOptions(providers=[providers[role]]),
    )
    for role in regions
}

dashboard = Dashboard(
    "dashboard",
    DashboardArgs(
        environment_suffix=settings.environment_suffix,
        regions=[
            DashboardRegion(
                region=regions[role],
                cluster_identifier=clusters[role].cluster_identifier,
                instance_identifiers=[i.identifier for i in instances[role]],
            )
            for role in regions
        ],
    ),
    opts=pulumi.ResourceOptions(providers=[providers["primary"]]),
)


def failover_target(role: str, endpoint: pulumi.Output[str], metric: str) -> FailoverTarget:
    """One side of a record pair: a region's endpoint, vouched for by its health alarm."""
    return FailoverTarget(
        region=regions[role],
        endpoint=endpoint,
        alarm_name=monitoring[role].health_alarms[metric].name,
    )


dns = FailoverDns(
    "dns",
    FailoverDnsArgs(
        environment_suffix=settings.environment_suffix,
        zone_name=settings.private_zone_name,
        vpcs=[ZoneVpc(vpc_id=networks[role].vpc.id, region=regions[role]) for role in regions],
        records=[
            FailoverRecord(
                label="writer",
                primary=failover_target(
                    "primary", clusters["primary"].endpoint, contract.WRITER_AVAILABLE.name
                ),
                secondary=failover_target(
                    "dr", clusters["dr"].endpoint, contract.WRITER_AVAILABLE.name
                ),
            ),
            FailoverRecord(
                label="reader",
                primary=failover_target(
                    "primary", clusters["primary"].reader_endpoint, contract.READER_AVAILABLE.name
                ),
                secondary=failover_target(
                    "dr", clusters["dr"].reader_endpoint, contract.READER_AVAILABLE.name
                ),
            ),
        ],
        ttl_seconds=sizing.dns_ttl_seconds,
    ),
    opts=pulumi.ResourceOptions(providers=[providers["primary"]]),
)

automation_contexts = {
    role: RegionContext(
        role=role,
        region=regions[role],
        provider=providers[role],
        kms_key_arn=keys[role].arn,
        subnet_ids=networks[role].subnet_ids,
        lambda_security_group_id=networks[role].lambda_security_group.id,
        db_security_group_id=networks[role].db_security_group.id,
        db_subnet_group_name=database.subnet_group_names[role],
        cluster_arn=clusters[role].arn,
        cluster_endpoint=clusters[role].endpoint,
        reader_endpoint=clusters[role].reader_endpoint,
        topic_arn=monitoring[role].topic.arn,
        probe_alarm=monitoring[role].health_alarms[contract.PEER_WRITER_AVAILABLE.name],
        writer_alarm=monitoring[role].health_alarms[contract.WRITER_AVAILABLE.name],
        failover_events_rule=monitoring[role].failover_events_rule,
        rds_endpoint_url=networks[role].rds_endpoint_url,
    )
    for role in regions
}
dr_automation = DrAutomation(
    "automation",
    DrAutomationArgs(
        environment_suffix=settings.environment_suffix,
        account_id=identity.account_id,
        partition=partition,
        sizing=sizing,
        primary=automation_contexts["primary"],
        dr=automation_contexts["dr"],
        global_cluster_id=database.global_cluster.id,
        global_cluster_arn=database.global_cluster.arn,
        secret_arn=database.secret.arn,
        secret_name=database.secret.name,
        secret_id=database.secret.id,
    ),
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
pulumi.export("privateZoneId", dns.zone.zone_id)
pulumi.export("privateZoneName", dns.zone.name)
pulumi.export("writerDnsName", dns.names["writer"])
pulumi.export("readerDnsName", dns.names["reader"])
pulumi.export("primaryAlertTopicArn", monitoring["primary"].topic.arn)
pulumi.export("drAlertTopicArn", monitoring["dr"].topic.arn)
pulumi.export("dashboardName", dashboard.dashboard_name)
pulumi.export(
    "functionArns",
    {
        key: {region: function.arn for region, function in by_region.items()}
        for key, by_region in dr_automation.functions.items()
    },
)
