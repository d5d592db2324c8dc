"""Run the real Pulumi program (or one component) under Pulumi's mock runtime and record it.

The language host runs `runpy.run_path(<project dir>, run_name="__main__")` inside a stack; this
does the same with a `RecordingMonitor` that keeps what `MockResourceArgs` drops (parent,
provider, dependencies, resource options), and with the stack's configuration loaded as the CLI
would: `Pulumi.yaml` defaults overlaid with `Pulumi.<stack>.yaml`. Used by the tests and by
`python -m drplan`; needs neither AWS credentials nor the Pulumi CLI.
"""

from __future__ import annotations

import runpy
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime
import pulumi.runtime.config
import pulumi.runtime.resource
import pulumi.runtime.settings
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from drplan.stack_files import UnknownSecret, read_stack_config

PROJECT_DIR = Path(__file__).resolve().parent.parent
MOCK_ACCOUNT_ID = "123456789012"
MOCK_PARTITION = "aws"
# Wire format of a secret value: {SECRET_SIGNATURE: SECRET_VALUE_SIGNATURE, "value": ...}.
SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"  # noqa: S105 (not a password)
SECRET_VALUE_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105
STACK_TYPE = "pulumi:pulumi:Stack"
AWS_PROVIDER_TYPE = "pulumi:providers:aws"

# Data sources the program may call: they describe the account, the region and what AWS offers
# there (catalogue lookups), never pre-existing resources, so the program deploys into an empty
# account.
GET_AVAILABILITY_ZONES = "aws:index/getAvailabilityZones:getAvailabilityZones"
GET_VPC_ENDPOINT_SERVICE = "aws:ec2/getVpcEndpointService:getVpcEndpointService"
GET_ORDERABLE_DB_INSTANCE = "aws:rds/getOrderableDbInstance:getOrderableDbInstance"
ALLOWED_INVOKES = frozenset(
    {
        GET_AVAILABILITY_ZONES,
        GET_VPC_ENDPOINT_SERVICE,
        GET_ORDERABLE_DB_INSTANCE,
        "aws:index/getCallerIdentity:getCallerIdentity",
        "aws:index/getPartition:getPartition",
        "aws:index/getRegion:getRegion",
    }
)
# The mock account's zones: names a-d, whose IDs are shuffled as they are in a real account
# (names map to different physical zones per account), so ID order differs from name order.
MOCK_ZONE_LETTERS = "abcd"
MOCK_ZONE_ID_NUMBERS = (4, 1, 3, 2)
# Instance classes the mock RDS catalogue offers for global databases: memory-optimised and
# Serverless v2 (burstable classes are "not supported by global databases").
MOCK_GLOBAL_CLASS_PREFIXES = ("db.r5.", "db.r6g.", "db.r6i.", "db.r7g.", "db.r7i.", "db.r8g.")
MOCK_SERVERLESS_CLASS = "db.serverless"


@dataclass(frozen=True)
class ZoneCatalogue:
    """What the mock AWS catalogue offers per zone: by default every offering in every zone;
    `missing` lists, per (region, offering), the zone names where it does not run. An offering
    is an interface endpoint service's short name (`lambda`) or `rds:<instance class>`."""

    missing: Mapping[tuple[str, str], frozenset[str]] = field(default_factory=dict)

    @staticmethod
    def zones(region: str) -> list[tuple[str, str]]:
        """(name, zone id) of every zone of the mock region."""
        parts = region.split("-")  # us-east-1 -> use1, like AWS's zone IDs
        code = parts[0] + "".join(part[0] for part in parts[1:-1]) + parts[-1]
        return [
            (f"{region}{letter}", f"{code}-az{number}")
            for letter, number in zip(MOCK_ZONE_LETTERS, MOCK_ZONE_ID_NUMBERS, strict=True)
        ]

    def offered(self, region: str, offering: str) -> list[str]:
        """Zone names of `region` where `offering` runs."""
        absent = self.missing.get((region, offering), frozenset())
        return [name for name, _ in self.zones(region) if name not in absent]


RDS_ID_PROPERTY = {
    "aws:rds/globalCluster:GlobalCluster": "globalClusterIdentifier",
    "aws:rds/cluster:Cluster": "clusterIdentifier",
    "aws:rds/clusterInstance:ClusterInstance": "identifier",
}


class ProgramFailed(Exception):
    """The program raised: `error` is what it raised, `registrations` what it had registered
    before (empty when configuration validation stopped it, as it must)."""

    def __init__(self, error: BaseException, registrations: list[Registration]) -> None:
        super().__init__(str(error))
        self.error = error
        self.registrations = registrations


class DisallowedLookupError(RuntimeError):
    """The program called a data source outside `ALLOWED_INVOKES`."""


def unwrap_secrets(value: Any) -> Any:
    """Replace Pulumi's wire-format secret wrappers by their plain values, recursively."""
    if isinstance(value, dict):
        if value.get(SECRET_SIGNATURE) == SECRET_VALUE_SIGNATURE and "value" in value:
            return unwrap_secrets(value["value"])
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def secret_paths(value: Any, path: str = "") -> list[str]:
    """Dotted paths of every secret-wrapped value inside `value`."""
    if isinstance(value, dict):
        if value.get(SECRET_SIGNATURE) == SECRET_VALUE_SIGNATURE:
            return [path or "."]
        return [p for k, v in value.items() for p in secret_paths(v, f"{path}.{k}".lstrip("."))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in secret_paths(v, f"{path}[{i}]")]
    return []


@dataclass
class Registration:
    """One resource the program registered, with what the engine would have been told."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    ignore_changes: list[str]
    delete_before_replace: bool
    inputs: dict[str, Any]
    secret_inputs: list[str]
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    region: str | None = None

    @property
    def provider_urn(self) -> str:
        """URN part of the provider reference (`<urn>::<id>`)."""
        return self.provider.rsplit("::", 1)[0] if self.provider else ""


MockOutputs = Callable[[str, dict[str, Any], str], dict[str, Any]]
"""(logical name, inputs, region) -> provider-computed outputs of one resource type."""


def _arn_by(
    service: str, resource: str, name_input: str = "name", global_: bool = False
) -> MockOutputs:
    """Outputs with just an ARN `arn:aws:<service>:<region>:<account>:<resource><name>`, the name
    being the resource's `name_input` input (else its logical name)."""

    def outputs(name: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
        where = "" if global_ else region
        return {
            "arn": f"arn:aws:{service}:{where}:{MOCK_ACCOUNT_ID}:{resource}{inputs.get(name_input, name)}"
        }

    return outputs


def _global_cluster(name: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    identifier = inputs.get("globalClusterIdentifier", name)
    return {
        "arn": f"arn:aws:rds::{MOCK_ACCOUNT_ID}:global-cluster:{identifier}",
        "endpoint": f"{identifier}.global-mock.global.rds.amazonaws.com",
        "globalClusterResourceId": f"cluster-{name}",
    }


def _cluster(name: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    identifier = inputs.get("clusterIdentifier", name)
    return {
        "arn": f"arn:aws:rds:{region}:{MOCK_ACCOUNT_ID}:cluster:{identifier}",
        "endpoint": f"{identifier}.cluster-mock.{region}.rds.amazonaws.com",
        "readerEndpoint": f"{identifier}.cluster-ro-mock.{region}.rds.amazonaws.com",
        "clusterResourceId": f"cluster-{name}",
        "port": 5432,
    }


def _cluster_instance(name: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    identifier = inputs.get("identifier", name)
    return {
        "arn": f"arn:aws:rds:{region}:{MOCK_ACCOUNT_ID}:db:{identifier}",
        "endpoint": f"{identifier}.mock.{region}.rds.amazonaws.com",
        "dbiResourceId": f"db-{name}",
    }


def _vpc_endpoint(name: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    service = str(inputs.get("serviceName", "")).rsplit(".", 1)[-1]
    if inputs.get("vpcEndpointType") == "Gateway":
        # A gateway endpoint is reached through its service's prefix list, not a DNS name.
        return {"prefixListId": f"pl-{service}-{region}"}
    dns_name = f"vpce-{name}.{service}.{region}.vpce.amazonaws.com"
    return {"dnsEntries": [{"dnsName": dns_name, "hostedZoneId": "Z1"}]}


def _function(name: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    function = inputs.get("name", name)
    return {
        "arn": f"arn:aws:lambda:{region}:{MOCK_ACCOUNT_ID}:function:{function}",
        "invokeArn": f"arn:aws:apigateway:{region}:lambda:path/functions/{function}/invocations",
        "qualifiedArn": f"arn:aws:lambda:{region}:{MOCK_ACCOUNT_ID}:function:{function}:$LATEST",
    }


def _layer(name: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    layer = inputs.get("layerName", name)
    return {"arn": f"arn:aws:lambda:{region}:{MOCK_ACCOUNT_ID}:layer:{layer}:1"}


def _secret(name: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    secret = inputs.get("name", name)
    return {"arn": f"arn:aws:secretsmanager:{region}:{MOCK_ACCOUNT_ID}:secret:{secret}-AbCdEf"}


MOCK_OUTPUTS: dict[str, MockOutputs] = {
    "aws:ec2/vpc:Vpc": lambda name, _, __: {
        "defaultRouteTableId": f"rtb-main-{name}",
        "defaultSecurityGroupId": f"sg-default-{name}",
    },
    "aws:kms/key:Key": lambda name, _, region: {
        "keyId": f"key-{name}",
        "arn": f"arn:aws:kms:{region}:{MOCK_ACCOUNT_ID}:key/{name}",
    },
    "aws:cloudwatch/logGroup:LogGroup": _arn_by("logs", "log-group:"),
    "aws:iam/role:Role": _arn_by("iam", "role/", global_=True),
    "aws:rds/globalCluster:GlobalCluster": _global_cluster,
    "aws:rds/cluster:Cluster": _cluster,
    "aws:rds/clusterInstance:ClusterInstance": _cluster_instance,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "random:index/randomPassword:RandomPassword": lambda name, _, __: {
        "result": f"mock-generated-{name}"
    },
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:sns/topic:Topic": _arn_by("sns", ""),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _arn_by("cloudwatch", "alarm:"),
    "aws:route53/zone:Zone": lambda name, _, __: {
        "zoneId": f"Z{name.upper().replace('-', '')[:20]}",
        "nameServers": [],
    },
    "aws:lambda/function:Function": _function,
    "aws:lambda/layerVersion:LayerVersion": _layer,
    "aws:dynamodb/table:Table": _arn_by("dynamodb", "table/"),
    "aws:cloudwatch/eventRule:EventRule": _arn_by("events", "rule/"),
    # S3 bucket ARNs carry neither region nor account.
    "aws:s3/bucket:Bucket": lambda name, inputs, _: {
        "arn": f"arn:aws:s3:::{inputs.get('bucket', name)}"
    },
    "aws:backup/vault:Vault": _arn_by("backup", "backup-vault:"),
}
"""Provider-computed outputs by resource type (others get a generic ARN)."""


def _mock_outputs(type_: str, name: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    """Plausible provider-computed outputs, so downstream `apply`s see realistic values; inputs
    win over them, as a provider echoes its inputs."""
    service = type_.split(":")[1].split("/")[0] if ":" in type_ else "mock"
    resource = type_.rsplit(":", 1)[-1].lower()
    outputs: dict[str, Any] = {
        "arn": f"arn:aws:{service}:{region}:{MOCK_ACCOUNT_ID}:{resource}:{name}"
    }
    if type_ in MOCK_OUTPUTS:
        outputs.update(MOCK_OUTPUTS[type_](name, inputs, region))
    return {**outputs, **inputs}


def _availability_zones(
    catalogue: ZoneCatalogue, region: str, _: Mapping[str, Any]
) -> dict[str, Any]:
    zones = catalogue.zones(region)
    return {"names": [n for n, _ in zones], "zoneIds": [i for _, i in zones], "id": region}


def _vpc_endpoint_service(
    catalogue: ZoneCatalogue, region: str, args: Mapping[str, Any]
) -> dict[str, Any]:
    service = args.get("service") or str(args.get("serviceName", "")).split(f"{region}.", 1)[-1]
    return {
        "service": service,
        "serviceName": f"com.amazonaws.{region}.{service}",
        "serviceType": args.get("serviceType") or "Interface",
        "availabilityZones": catalogue.offered(region, service),
        "region": region,
        "id": f"com.amazonaws.{region}.{service}",
    }


def _orderable_db_instance(
    catalogue: ZoneCatalogue, region: str, args: Mapping[str, Any]
) -> dict[str, Any]:
    instance_class = str(args.get("instanceClass", ""))
    global_capable = instance_class == MOCK_SERVERLESS_CLASS or instance_class.startswith(
        MOCK_GLOBAL_CLASS_PREFIXES
    )
    if args.get("supportsGlobalDatabases") and not global_capable:
        # What the provider says when the catalogue has no such offering.
        raise DisallowedLookupError("no RDS DB Instance Classes match the criteria")
    return {
        "engine": args.get("engine"),
        "engineVersion": args.get("engineVersion"),
        "instanceClass": instance_class,
        "availabilityZones": catalogue.offered(region, f"rds:{instance_class}"),
        "supportsGlobalDatabases": global_capable,
        "id": instance_class,
    }


CatalogueAnswer = Callable[[ZoneCatalogue, str, Mapping[str, Any]], dict[str, Any]]
CATALOGUE_ANSWERS: Mapping[str, CatalogueAnswer] = {
    GET_AVAILABILITY_ZONES: _availability_zones,
    GET_VPC_ENDPOINT_SERVICE: _vpc_endpoint_service,
    GET_ORDERABLE_DB_INSTANCE: _orderable_db_instance,
}
"""Answers of the catalogue lookups, per region, from the run's `ZoneCatalogue`."""


class StackMocks(pulumi_mocks.Mocks):
    """Mocks that answer the few allowed data sources per region and synthesise outputs."""

    def __init__(self, catalogue: ZoneCatalogue | None = None) -> None:
        self.provider_regions: dict[str, str] = {}
        self.invokes: list[tuple[str, str | None]] = []
        self.catalogue = catalogue or ZoneCatalogue()

    def region_for(self, provider_ref: str | None, inputs: Mapping[str, Any]) -> str:
        """Region a resource or call lands in: its own `region` input, else its provider's."""
        region = inputs.get("region")
        if isinstance(region, str) and region:
            return region
        return self.provider_regions.get(provider_ref or "", "us-east-1")

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict]:
        inputs = unwrap_secrets(dict(args.inputs))
        if args.typ.startswith("pulumi:providers:"):
            return f"{args.name}-provider-id", inputs
        if not args.custom:
            return "", {}
        region = self.region_for(args.provider, inputs)
        # Like the provider: an RDS resource's id is its identifier.
        resource_id = inputs.get(RDS_ID_PROPERTY.get(args.typ, ""), f"{args.name}-id")
        return resource_id, _mock_outputs(args.typ, args.name, inputs, region)

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict, list]:
        region = self.region_for(args.provider, args.args)
        self.invokes.append((args.token, region))
        if args.token not in ALLOWED_INVOKES:
            raise DisallowedLookupError(
                f"the program looked up {args.token}: only account/region data sources are "
                "allowed, so that it deploys into an empty account"
            )
        if args.token in CATALOGUE_ANSWERS:
            return CATALOGUE_ANSWERS[args.token](self.catalogue, region, args.args), []
        if args.token.endswith("getCallerIdentity"):
            return {
                "accountId": MOCK_ACCOUNT_ID,
                "arn": f"arn:aws:iam::{MOCK_ACCOUNT_ID}:user/plan",
                "userId": "AIDAMOCK",
                "id": MOCK_ACCOUNT_ID,
            }, []
        if args.token.endswith("getPartition"):
            return {
                "partition": MOCK_PARTITION,
                "dnsSuffix": "amazonaws.com",
                "id": MOCK_PARTITION,
            }, []
        return {"name": region, "region": region, "id": region}, []


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """MockMonitor that keeps every registration request whole (pulumi/pulumi#14421)."""

    def __init__(self, mocks: StackMocks) -> None:
        super().__init__(mocks)
        self.stack_mocks = mocks
        self.registrations: list[Registration] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type == STACK_TYPE:
            return response
        raw_inputs = rpc.deserialize_properties(request.object)
        inputs = unwrap_secrets(raw_inputs)
        urn, resource_id = response.urn, response.id
        if request.type == AWS_PROVIDER_TYPE:
            self.stack_mocks.provider_regions[f"{urn}::{resource_id}"] = inputs.get("region", "")
        region = None
        if request.custom:
            region = self.stack_mocks.region_for(request.provider, inputs)
            if request.type.startswith("pulumi:providers:"):
                region = inputs.get("region")
        registered = self.resources.get(urn)
        self.registrations.append(
            Registration(
                urn=urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent,
                provider=request.provider,
                dependencies=list(request.dependencies),
                property_dependencies={
                    key: list(deps.urns) for key, deps in request.propertyDependencies.items()
                },
                protect=bool(request.protect),
                ignore_changes=list(request.ignoreChanges),
                delete_before_replace=bool(request.deleteBeforeReplace),
                inputs=inputs,
                secret_inputs=secret_paths(raw_inputs),
                id=resource_id,
                outputs=dict(registered.state) if registered else {},
                region=region,
            )
        )
        return response


@dataclass
class PlanRun:
    """What one run of the program registered and exported."""

    stack: str
    registrations: list[Registration]
    outputs: dict[str, Any]
    secret_outputs: list[str]
    invokes: list[tuple[str, str | None]]

    @property
    def resources(self) -> list[Registration]:
        """Custom (cloud) resources, providers excluded."""
        return [
            r for r in self.registrations if r.custom and not r.type.startswith("pulumi:providers:")
        ]

    @property
    def components(self) -> list[Registration]:
        """Component resources (ours), in registration order."""
        return [r for r in self.registrations if not r.custom]

    @property
    def providers(self) -> list[Registration]:
        """Explicit provider resources."""
        return [r for r in self.registrations if r.type.startswith("pulumi:providers:")]

    def of_type(self, type_: str) -> list[Registration]:
        """Registrations of one type token, e.g. `aws:ec2/vpc:Vpc`."""
        return [r for r in self.registrations if r.type == type_]

    def by_urn(self, urn: str) -> Registration:
        """The registration with this URN."""
        for registration in self.registrations:
            if registration.urn == urn:
                return registration
        raise KeyError(urn)

    def named(self, name: str) -> Registration:
        """The registration with this logical name (unique per type in practice)."""
        matches = [r for r in self.registrations if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} registrations named {name!r}")
        return matches[0]

    def ancestors(self, registration: Registration) -> list[Registration]:
        """Parent chain of a registration, nearest first (the stack excluded)."""
        chain: list[Registration] = []
        parent = registration.parent
        by_urn = {r.urn: r for r in self.registrations}
        while parent in by_urn:
            chain.append(by_urn[parent])
            parent = by_urn[parent].parent
        return chain

    def component_of(self, registration: Registration) -> Registration | None:
        """The nearest component that owns a resource."""
        return next((a for a in self.ancestors(registration) if not a.custom), None)

    def depends_on(self, registration: Registration, target_urn: str) -> bool:
        """True when `registration`, or a parent of it, depends on `target_urn` directly or
        through a component that contains the target."""
        for node in (registration, *self.ancestors(registration)):
            deps = set(node.dependencies)
            for urns in node.property_dependencies.values():
                deps.update(urns)
            if target_urn in deps:
                return True
        return False


def load_stack_config(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    """Config as the CLI passes it: `Pulumi.yaml` defaults overlaid with `Pulumi.<stack>.yaml`,
    keys namespaced `<project>:<key>`, values as strings (see `drplan.stack_files`)."""
    return read_stack_config(stack, project_dir).values


def _evict_project_modules(project_dir: Path) -> None:
    # Evicted *before* a run, not after one: the SDK reads type hints from the program's modules
    # while outputs settle, and the next run must import the program afresh.
    root = str(project_dir)
    for module_name, module in list(sys.modules.items()):
        module_file = getattr(module, "__file__", None) or ""
        in_project = module_file.startswith(root) and "/venv/" not in module_file
        if (
            in_project
            and module_name != "__main__"
            and not module_name.startswith(("drplan", "tests"))
        ):
            del sys.modules[module_name]


@contextmanager
def _no_source_stack_traces() -> Iterator[None]:
    """Resources register without the Python stack that created them.

    The SDK walks the whole stack for each resource (`traceback.extract_stack`, then a file
    URI per frame) and sends it to the engine, which shows it in diagnostics. The mock monitor
    records none of it, and the walk was a fifth of a whole-stack run (0.57 of 2.9 s profiled).
    """
    walk = pulumi.runtime.resource._get_stack_trace
    pulumi.runtime.resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        pulumi.runtime.resource._get_stack_trace = walk


def _run(
    program: Callable[[], None],
    stack: str,
    config: Mapping[str, str],
    preview: bool,
    catalogue: ZoneCatalogue | None = None,
) -> PlanRun:
    pulumi.runtime.settings.ROOT.set(None)
    secret_keys = [key for key, value in config.items() if isinstance(value, UnknownSecret)]
    pulumi.runtime.config.set_all_config(dict(config), secret_keys)
    mocks = StackMocks(catalogue)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(
        mocks, project="aurora-dr", stack=stack, preview=preview, monitor=monitor
    )
    # set_mocks installs a root stack of its own; run like the language host does, in a new one.
    pulumi.runtime.settings.ROOT.set(None)
    stacks: list[Any] = []

    def program_in_stack() -> None:
        # The stack lives in the context of the task that runs the program: capture it there.
        stacks.append(pulumi.runtime.settings.get_root_resource())
        program()

    try:
        with _no_source_stack_traces():
            _sync_await(run_in_stack(program_in_stack))
    except Exception as error:
        raise ProgramFailed(error, monitor.registrations) from error
    root = stacks[0] if stacks else None
    outputs: dict[str, Any] = {}
    secret_outputs: list[str] = []
    for key, value in getattr(root, "outputs", {}).items():
        output = pulumi.Output.from_input(value)
        outputs[key] = _sync_await(output.future())
        if _sync_await(output.is_secret()):
            secret_outputs.append(key)
    return PlanRun(stack, monitor.registrations, outputs, secret_outputs, mocks.invokes)


def run_program(
    stack: str,
    overrides: Mapping[str, str | None] | None = None,
    *,
    project_dir: Path = PROJECT_DIR,
    preview: bool = False,
    before_program: Callable[[], None] | None = None,
    catalogue: ZoneCatalogue | None = None,
) -> PlanRun:
    """Run `__main__.py` for `stack` with its real config files; `overrides` replace single keys
    (`None` removes one). `before_program` runs after the project's modules are evicted and
    before the program imports them afresh: tests use it to patch, e.g., the sizing map.
    `catalogue` says where AWS offers what (default: everything everywhere).
    Raises `ProgramFailed` wrapping whatever the program raised."""
    config = load_stack_config(stack, project_dir)
    for key, value in (overrides or {}).items():
        full_key = key if ":" in key else f"aurora-dr:{key}"
        if value is None:
            config.pop(full_key, None)
        else:
            config[full_key] = value
    _evict_project_modules(project_dir)
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    if before_program is not None:
        before_program()

    def program() -> None:
        runpy.run_path(str(project_dir), run_name="__main__")

    return _run(program, stack, config, preview, catalogue)


def run_component(
    build: Callable[[], None],
    *,
    stack: str = "unit",
    config: Mapping[str, str] | None = None,
    preview: bool = False,
) -> PlanRun:
    """Run `build` (which declares one or a few components) under the same recording mocks."""
    return _run(build, stack, config or {}, preview)


def summarize_types(registrations: Iterable[Registration]) -> dict[str, int]:
    """Count of registrations per type token, sorted by token."""
    counts: dict[str, int] = {}
    for registration in registrations:
        counts[registration.type] = counts.get(registration.type, 0) + 1
    return dict(sorted(counts.items()))
