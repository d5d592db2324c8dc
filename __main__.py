"""aurora-dr: an Aurora PostgreSQL global database that survives the loss of a region.

Wiring only: settings -> regions -> keys -> networks -> peering -> database -> backups ->
monitoring -> DNS -> automation -> exports. `stack/` reads, `decisions/` decides, `components/`
declare (docs/architecture.md)."""

import pulumi

from components.backups import Backups, BackupsArgs
from components.dashboard import Dashboard, DashboardArgs
from components.dr_automation import DrAutomation, DrAutomationArgs
from components.failover_dns import FailoverDns, FailoverDnsArgs, ZoneVpc, failover_records
from components.global_aurora import GlobalAurora, GlobalAuroraArgs
from components.monitoring import Monitoring, MonitoringArgs
from components.network import Network, NetworkArgs
from components.peered_vpcs import PeeredVpcs, PeeredVpcsArgs
from components.region_key import RegionKey, RegionKeyArgs
from stack.account import lookup_account
from stack.config import load_settings
from stack.naming import Namer
from stack.regions import declare_regions
from stack.sizing import SIZING

settings = load_settings()
sizing = SIZING[settings.sizing]
namer = Namer.from_settings(settings)
regions = declare_regions(settings, namer)
account = lookup_account(regions.primary)

keys = regions.map(
    lambda region: RegionKey(f"{region.role}-key", RegionKeyArgs(region, namer, account, sizing))
)
networks = regions.map(
    lambda region: Network(
        f"{region.role}-network",
        NetworkArgs(region, namer, sizing, keys[region.role].arn, settings.network),
    )
)
peering = PeeredVpcs("peering", PeeredVpcsArgs(namer, networks))
database = GlobalAurora(
    "database",
    GlobalAuroraArgs(namer, sizing, account, settings.database, networks, keys),
    opts=pulumi.ResourceOptions(depends_on=[peering]),
)
backups = Backups("backups", BackupsArgs(namer, sizing, account, keys, database))
monitoring = regions.map(
    lambda region: Monitoring(
        f"{region.role}-monitoring",
        MonitoringArgs(
            region,
            namer,
            sizing,
            account,
            keys[region.role].arn,
            database.members[region.role],
            settings.alert_subscribers,
        ),
    )
)
dashboard = Dashboard("dashboard", DashboardArgs(regions.primary, namer, database.members, sizing))
dns = FailoverDns(
    "dns",
    FailoverDnsArgs(
        regions.primary,
        namer,
        settings.private_zone_name,
        sizing.dns_ttl_seconds,
        vpcs=[ZoneVpc(network.vpc.id, network.region) for network in networks],
        records=failover_records(database.members, monitoring.map(lambda m: m.health_alarms)),
    ),
)
automation = DrAutomation(
    "automation",
    DrAutomationArgs(namer, sizing, account, keys, networks, database, monitoring, backups),
)

exported = (*regions, *networks, *keys, peering, database, backups, dns, *monitoring, dashboard)
for component in (*exported, automation):
    for output_name, value in component.exports().items():
        pulumi.export(output_name, value)
