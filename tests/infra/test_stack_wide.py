"""Stack-wide rules: names, tags, providers, lookups."""

from __future__ import annotations

from drplan.harness import ALLOWED_INVOKES, PlanRun
from drplan.inventory import physical_name
from drplan.review import stack_settings
from stack.naming import Namer
from tests.infra.queries import provider_default_tags, region_roles

TAG_KEYS = {"Environment", "Repository", "Author", "PRNumber", "Team", "Project", "ManagedBy"}


def test_every_physical_name_ends_with_the_suffix(plan: PlanRun):
    # GIVEN the suffix as the stack's configuration sets it (parsed as the program parses it)
    settings = stack_settings(plan.stack)
    suffix, zone = settings.environment_suffix, settings.private_zone_name
    named = [(r, physical_name(r)) for r in plan.resources]
    named = [(r, n) for r, n in named if n]
    assert len(named) > 20
    # Names AWS shapes itself: RDS writes a cluster's exported logs to a group named after it.
    rds_log_groups = {
        f"/aws/rds/cluster/{c.inputs['clusterIdentifier']}/{export}"
        for c in plan.of_type("aws:rds/cluster:Cluster")
        for export in c.inputs["enabledCloudwatchLogsExports"]
    }
    for resource, name in named:
        if resource.type == "aws:route53/zone:Zone":
            assert name == zone
        elif resource.type == "aws:route53/record:Record":
            assert name.endswith(f".{zone}"), f"record {name!r} outside {zone}"
        elif name in rds_log_groups:
            assert name.split("/")[-2].endswith(f"-{suffix}")
        else:
            assert name.endswith(f"-{suffix}"), f"{resource.type} {resource.name} is named {name!r}"
    for resource in plan.resources:
        tags = resource.inputs.get("tags")
        if isinstance(tags, dict) and "Name" in tags:
            assert tags["Name"].endswith(f"-{suffix}")


def test_every_resource_uses_an_explicit_regional_provider_with_every_tag(plan: PlanRun):
    providers = {f"{p.urn}::{p.id}": p for p in plan.providers}
    roles = region_roles(plan)
    assert {p.inputs["region"] for p in providers.values()} == set(roles.values())
    for provider in providers.values():
        tags = provider_default_tags(provider)
        assert set(tags) == TAG_KEYS
        assert tags["Environment"] == stack_settings(plan.stack).environment_suffix
        assert tags["Project"] == "aurora-dr" and tags["ManagedBy"] == "pulumi"
    for resource in (r for r in plan.resources if r.type.startswith("aws:")):
        assert resource.provider in providers, (
            f"{resource.type} {resource.name} uses the default provider"
        )


def test_tags_come_from_config(plans: dict[str, PlanRun]):
    from stack.config import parse_settings

    settings = parse_settings({"environmentSuffix": "x", "team": "payments", "prNumber": "42"})
    tags = Namer.from_settings(settings).tags
    assert tags["Team"] == "payments" and tags["PRNumber"] == "42"
    assert set(tags) == TAG_KEYS
    # and every provider of each stack carries the tags its own configuration parses to
    for stack, plan in plans.items():
        expected = dict(Namer.from_settings(stack_settings(stack)).tags)
        assert [provider_default_tags(p) for p in plan.providers] == [expected, expected], stack


def test_only_account_and_region_lookups(plan: PlanRun):
    assert plan.invokes
    assert {token for token, _ in plan.invokes} <= ALLOWED_INVOKES


def test_children_are_parented_to_their_component_with_derived_names(plan: PlanRun):
    for resource in plan.resources:
        owner = plan.component_of(resource)
        assert owner is not None, f"{resource.name} has no component"
        assert resource.name.startswith(owner.name), f"{resource.name} not under {owner.name}"
