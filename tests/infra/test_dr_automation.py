"""DrAutomation on what the dev and prod stacks register."""

from __future__ import annotations

import json

import pytest

from decisions.functions import functions_in
from decisions.iam import UNSCOPED_ACTIONS
from decisions.peer_watch import invoked_functions
from drplan.harness import PROJECT_DIR, PlanRun
from lambdas.drcommon.contract import (
    FUNCTION_ENV,
    HEALTH_RUN_EVENT,
    NAMESPACE,
    PEER_PROBE_INVOKE_ALLOWANCE_SECONDS,
    REMOTE_CALL_BUDGET,
    WATCH_START_EVENT,
)
from stack.roles import DR, PRIMARY
from stack.sizing import LAMBDA_MINIMUM_UNRESERVED_CONCURRENCY, SIZING
from tests.infra.queries import key_arns_by_region, region_roles, security_group

SIZING_OF = {"dev": "test", "prod": "prod"}

FUNCTION = "aws:lambda/function:Function"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"

# The README's "DR functions" table, restated here on purpose: the test must fail if
# the code drifts from the documented design.
DOCUMENTED_FUNCTIONS = {
    "failover_coordinator": (300, 512, {"primary", "dr"}),
    "connection_drainer": (60, 256, {"primary", "dr"}),
    "health_checker": (30, 256, {"primary", "dr"}),
    "peer_watch": (30, 128, {"primary", "dr"}),
    "secret_rotation": (300, 512, {"primary"}),
    "backup_verifier": (900, 1024, {"dr"}),
}
# AWS APIs each database-connecting function calls from inside its VPC (from the Lambda code).
# The VPC-attached functions (they speak SQL) and the AWS APIs their code calls: Secrets Manager
# only. Everything else (roles, metrics, RDS, S3, SNS) runs in functions outside the VPC.
VPC_API_CALLS = {
    "connection_drainer": {"secretsmanager"},
    "health_checker": {"secretsmanager"},
    "secret_rotation": {"secretsmanager"},
}
# Policy services a VPC-attached function's code never calls itself: Lambda writes its logs,
# manages its ENIs and delivers its failed asynchronous invocations (SNS); KMS is called by Secrets
# Manager on the function's behalf when it decrypts the secret.
CALLED_FOR_THE_FUNCTION = {"logs", "ec2", "sns", "kms"}
# Actions that accept no resource scoping, so `"*"` is the only possible resource.
JUSTIFIED_UNSCOPED = {
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "cloudwatch:PutMetricData",
    "cloudwatch:GetMetricData",
    "cloudwatch:ListMetrics",
    "secretsmanager:GetRandomPassword",
    "rds:DescribeEvents",
    # The backup verifier starting and listing snapshot exports (prod).
    "rds:StartExportTask",
    "rds:DescribeExportTasks",
}


def functions(plan: PlanRun) -> dict[tuple[str, str], object]:
    """(function key, region) -> registration."""
    found = {}
    for fn in plan.of_type(FUNCTION):
        key = fn.inputs["handler"].split(".", 1)[0]
        found[(key, fn.region)] = fn
    return found


def policies_by_role_id(plan: PlanRun) -> dict[str, dict]:
    return {p.inputs["role"]: json.loads(p.inputs["policy"]) for p in plan.of_type(ROLE_POLICY)}


def function_policy(plan: PlanRun, fn) -> dict:
    roles = {r.outputs["arn"]: r for r in plan.of_type("aws:iam/role:Role")}
    return policies_by_role_id(plan)[roles[fn.inputs["role"]].id]


def test_functions_are_placed_and_sized_as_designed(plan: PlanRun):
    roles = region_roles(plan)
    deployed = functions(plan)
    expected = {
        (key, roles[role])
        for key, (_, _, placed) in DOCUMENTED_FUNCTIONS.items()
        for role in placed
    }
    assert set(deployed) == expected
    for (key, _), fn in deployed.items():
        timeout, memory, _ = DOCUMENTED_FUNCTIONS[key]
        assert (fn.inputs["timeout"], fn.inputs["memorySize"]) == (timeout, memory)
        assert fn.inputs["runtime"] == "python3.12"
        assert fn.inputs["architectures"] == ["arm64"]
        assert fn.inputs["handler"] == f"{key}.handler.lambda_handler"


def test_database_functions_run_in_the_private_subnets_with_their_endpoints(plan: PlanRun):
    for (key, region), fn in functions(plan).items():
        if key not in VPC_API_CALLS:
            assert "vpcConfig" not in fn.inputs, f"{key} needs no VPC"
            continue
        subnets = {s.id for s in plan.of_type("aws:ec2/subnet:Subnet") if s.region == region}
        config = fn.inputs["vpcConfig"]
        assert set(config["subnetIds"]) == subnets and len(subnets) == 3
        assert config["securityGroupIds"] == [security_group(plan, region, "lambda").id]
        endpoints = {
            e.inputs["serviceName"].rsplit(".", 1)[-1]
            for e in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
            if e.region == region and e.inputs["vpcEndpointType"] == "Interface"
        }
        missing = VPC_API_CALLS[key] - endpoints
        assert not missing, f"{key} in {region} cannot reach {missing} without NAT"


def test_no_iam_statement_allows_every_action_and_star_resources_are_justified(plan: PlanRun):
    statements = [
        s for p in plan.of_type(ROLE_POLICY) for s in json.loads(p.inputs["policy"])["Statement"]
    ]
    assert statements
    unscoped = set()
    for stmt in statements:
        actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
        for action in actions:
            assert action != "*" and not action.endswith(":*"), f"wildcard action {action}"
        resources = stmt["Resource"] if isinstance(stmt["Resource"], list) else [stmt["Resource"]]
        if "*" in resources:
            unscoped |= set(actions)
    assert unscoped <= JUSTIFIED_UNSCOPED, (
        f"unjustified '*' resource for {unscoped - JUSTIFIED_UNSCOPED}"
    )
    assert set(UNSCOPED_ACTIONS) == JUSTIFIED_UNSCOPED


def test_rotation_may_touch_only_this_stacks_secret(plan: PlanRun):
    (secret,) = plan.of_type("aws:secretsmanager/secret:Secret")
    for (key, _), fn in functions(plan).items():
        for stmt in function_policy(plan, fn)["Statement"]:
            secret_actions = [a for a in stmt["Action"] if a.startswith("secretsmanager:")]
            if not secret_actions or stmt["Resource"] == "*":
                continue
            for resource in stmt["Resource"]:
                assert resource.rsplit(":", 1)[-1] == secret.outputs["arn"].rsplit(":", 1)[-1]
                assert resource.split(":")[3] == fn.region or key == "secret_rotation"
            if key != "secret_rotation":
                assert set(secret_actions) == {"secretsmanager:GetSecretValue"}


def test_only_the_coordinator_may_fail_over_and_only_this_global_cluster(plan: PlanRun):
    (global_cluster,) = plan.of_type("aws:rds/globalCluster:GlobalCluster")
    clusters = {c.outputs["arn"] for c in plan.of_type("aws:rds/cluster:Cluster")}
    for (key, _), fn in functions(plan).items():
        for stmt in function_policy(plan, fn)["Statement"]:
            mutating = {"rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"} & set(
                stmt["Action"]
            )
            if not mutating:
                continue
            assert key == "failover_coordinator"
            assert set(stmt["Resource"]) == {global_cluster.outputs["arn"], *clusters}


def test_rotation_is_wired_to_the_rotation_function_and_the_stacks_secret(
    plans: dict[str, PlanRun],
):
    for stack, plan in plans.items():
        (rotation,) = plan.of_type("aws:secretsmanager/secretRotation:SecretRotation")
        (secret,) = plan.of_type("aws:secretsmanager/secret:Secret")
        rotation_fn = functions(plan)[("secret_rotation", region_roles(plan)["primary"])]
        assert rotation.inputs["secretId"] == secret.id
        assert rotation.inputs["rotationLambdaArn"] == rotation_fn.outputs["arn"]
        assert rotation.inputs["rotationRules"]["automaticallyAfterDays"] == 30
        permissions = [
            p
            for p in plan.of_type("aws:lambda/permission:Permission")
            if p.inputs["principal"] == "secretsmanager.amazonaws.com"
        ]
        assert [p.inputs["sourceArn"] for p in permissions] == [secret.outputs["arn"]], stack


def test_rotation_starts_only_after_everything_its_first_run_needs(plan: PlanRun):
    # GIVEN the rotation, which Secrets Manager runs the moment it is created
    roles = region_roles(plan)
    (rotation,) = plan.of_type("aws:secretsmanager/secretRotation:SecretRotation")
    (secret_value,) = plan.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    primary = roles["primary"]
    writers = [
        i for i in plan.of_type("aws:rds/clusterInstance:ClusterInstance") if i.region == primary
    ]
    endpoints = {
        (e.region, e.inputs["serviceName"].rsplit(".", 1)[-1]): e
        for e in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    }
    lambda_group = security_group(plan, primary, "lambda")
    egress = [
        r
        for r in plan.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
        if r.region == primary
        and r.inputs["securityGroupId"] == lambda_group.id
        and r.inputs.get("referencedSecurityGroupId")
    ]
    needed = {
        "the secret's first value": [secret_value],
        "the writer instances": writers,
        "the endpoint it calls": [endpoints[(primary, "secretsmanager")]],
        "its egress on 443 and 5432": egress,
    }
    assert sorted(int(r.inputs["fromPort"]) for r in egress) == [443, 5432]
    assert writers
    # THEN it depends on each of them explicitly
    for what, resources in needed.items():
        for resource in resources:
            assert plan.depends_on(rotation, resource.urn), f"rotation may start before {what}"
    # AND it rotates at once: the four steps run on day one
    assert rotation.inputs["rotateImmediately"] is True


def test_schedules_run_at_the_stated_rates(plan: PlanRun):
    roles = region_roles(plan)
    rules = {r.name: r for r in plan.of_type("aws:cloudwatch/eventRule:EventRule")}
    targets = plan.of_type("aws:cloudwatch/eventTarget:EventTarget")
    deployed = functions(plan)
    machines = {m.outputs["arn"]: m for m in plan.of_type(STATE_MACHINE)}
    schedules = {}
    for target in targets:
        rule = next(r for r in rules.values() if r.inputs["name"] == target.inputs["rule"])
        if "scheduleExpression" not in rule.inputs:
            continue
        if target.inputs["arn"] in machines:
            schedules[("peer_watch_ticker", rule.region)] = rule.inputs["scheduleExpression"]
            continue
        fn = next(f for f in deployed.values() if f.outputs["arn"] == target.inputs["arn"])
        key = fn.inputs["handler"].split(".", 1)[0]
        if key == "peer_watch":
            # the health run: the watch publishes the metrics from the checker's probes
            assert json.loads(target.inputs["input"]) == HEALTH_RUN_EVENT
            assert rule.inputs["name"].startswith("aurora-dr-health-checker-schedule-")
        else:
            assert "input" not in target.inputs
        schedules[(key, fn.region)] = rule.inputs["scheduleExpression"]
    expected = {
        ("peer_watch", roles["primary"]): "rate(1 minute)",
        ("peer_watch", roles["dr"]): "rate(1 minute)",
        ("backup_verifier", roles["dr"]): "rate(24 hours)",
    }
    if SIZING[SIZING_OF[plan.stack]].peer_watch_ticker:
        # the health check's rule starts its region's peer watch ticker too
        expected[("peer_watch_ticker", roles["primary"])] = "rate(1 minute)"
        expected[("peer_watch_ticker", roles["dr"])] = "rate(1 minute)"
    assert schedules == expected


def test_without_the_ticker_only_the_health_run_starts_the_watch(plans):
    # GIVEN the dev stack (the test sizing runs no ticker)
    dev = plans["dev"]
    watches = {
        fn.outputs["arn"]: fn for (key, _), fn in functions(dev).items() if key == "peer_watch"
    }
    assert len(watches) == 2  # deployed in both regions: the health run, and drills
    # THEN no state machine ticks a watch; the one rule that targets each watch is the health
    # check's schedule, with the health run's input; and only EventBridge may invoke it
    assert dev.of_type(STATE_MACHINE) == []
    targets = dev.of_type("aws:cloudwatch/eventTarget:EventTarget")
    to_watches = [t for t in targets if t.inputs["arn"] in watches]
    assert len(to_watches) == 2
    assert all(json.loads(t.inputs["input"]) == HEALTH_RUN_EVENT for t in to_watches)
    assert all(
        t.inputs["rule"].startswith("aurora-dr-health-checker-schedule-") for t in to_watches
    )
    names = {fn.inputs["name"] for fn in watches.values()}
    permissions = [
        p for p in dev.of_type("aws:lambda/permission:Permission") if p.inputs["function"] in names
    ]
    assert len(permissions) == 2
    assert {p.inputs["principal"] for p in permissions} == {"events.amazonaws.com"}


def test_coordinator_is_single_flight_reports_failures_and_wakes_on_alarm_and_rds_events(
    plan: PlanRun,
):
    configs = {
        c.inputs["functionName"]: c
        for c in plan.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    }
    topics = {t.outputs["arn"]: t.region for t in plan.of_type("aws:sns/topic:Topic")}
    alarms = {a.outputs["arn"]: a for a in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    rules = plan.of_type("aws:cloudwatch/eventRule:EventRule")
    targets = plan.of_type("aws:cloudwatch/eventTarget:EventTarget")
    for (key, region), fn in functions(plan).items():
        config = configs[fn.inputs["name"]]
        destination = config.inputs["destinationConfig"]["onFailure"]["destination"]
        assert topics[destination] == region, f"{key} failures go to another region"
        if key != "failover_coordinator":
            continue
        assert config.inputs["maximumRetryAttempts"] == 0
        triggering = [
            r
            for r in rules
            if any(
                t.inputs["rule"] == r.inputs["name"] and t.inputs["arn"] == fn.outputs["arn"]
                for t in targets
            )
        ]
        patterns = [json.loads(r.inputs["eventPattern"]) for r in triggering]
        alarm_patterns = [p for p in patterns if p["source"] == ["aws.cloudwatch"]]
        assert len(alarm_patterns) == 1
        (alarm_arn,) = alarm_patterns[0]["resources"]
        assert alarms[alarm_arn].inputs["metricName"] == "PeerWriterAvailable"
        assert alarms[alarm_arn].region == region
        assert any(p["source"] == ["aws.rds"] for p in patterns)


def test_every_function_has_an_error_alarm_and_an_encrypted_log_group(plan: PlanRun):
    keys = key_arns_by_region(plan)
    topics = {t.outputs["arn"]: t.region for t in plan.of_type("aws:sns/topic:Topic")}
    error_alarms = {
        a.inputs["dimensions"]["FunctionName"]: a
        for a in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.inputs["namespace"] == "AWS/Lambda"
    }
    groups = {g.inputs["name"]: g for g in plan.of_type("aws:cloudwatch/logGroup:LogGroup")}
    for fn in plan.of_type(FUNCTION):
        alarm = error_alarms[fn.inputs["name"]]
        assert alarm.inputs["metricName"] == "Errors"
        assert {topics[a] for a in alarm.inputs["alarmActions"] + alarm.inputs["okActions"]} == {
            fn.region
        }
        group = groups[f"/aws/lambda/{fn.inputs['name']}"]
        assert group.inputs["kmsKeyId"] == keys[fn.region]
        assert group.region == fn.region
        assert fn.inputs["loggingConfig"]["logGroup"] == group.inputs["name"]


def test_environment_carries_identifiers_never_secrets(plan: PlanRun):
    (password,) = plan.of_type("random:index/randomPassword:RandomPassword")
    secret_value = password.outputs["result"]
    for fn in plan.of_type(FUNCTION):
        assert not [p for p in fn.secret_inputs if p.startswith("environment")]
        for name, value in fn.inputs["environment"]["variables"].items():
            assert secret_value not in str(value), f"{fn.name} {name} carries the password"
            assert "password" not in name.lower() or name == "PASSWORD_LENGTH"


@pytest.mark.parametrize("key", sorted(DOCUMENTED_FUNCTIONS))
def test_environment_matches_what_each_function_reads(plan: PlanRun, key: str):
    # What each function reads is its contract group (tests/lambdas/test_contract.py holds the
    # function packages to it); the stack sets every required name and nothing outside it.
    group = FUNCTION_ENV[key]
    required = set(group.required())
    readable = set(group.settable())
    for (function_key, _), fn in functions(plan).items():
        if function_key != key:
            continue
        variables = set(fn.inputs["environment"]["variables"])
        assert required <= variables, f"{key} misses {required - variables}"
        assert variables <= readable, f"{key} gets unknown {variables - readable}"


def test_lock_tables_are_keyed_expiring_and_encrypted_in_each_coordinators_region(plan: PlanRun):
    keys = key_arns_by_region(plan)
    tables = plan.of_type("aws:dynamodb/table:Table")
    assert {t.region for t in tables} == set(region_roles(plan).values())
    for table in tables:
        assert table.inputs["hashKey"] == "LockId"
        assert table.inputs["ttl"] == {"attributeName": "ExpiresAt", "enabled": True}
        assert table.inputs["serverSideEncryption"] == {
            "enabled": True,
            "kmsKeyArn": keys[table.region],
        }


def test_layer_per_region_for_the_function_runtime(plan: PlanRun):
    layers = {layer.region: layer for layer in plan.of_type("aws:lambda/layerVersion:LayerVersion")}
    assert set(layers) == set(region_roles(plan).values())
    for fn in plan.of_type(FUNCTION):
        layer = layers[fn.region]
        assert fn.inputs["layers"] == [layer.outputs["arn"]]
        assert layer.inputs["compatibleRuntimes"] == ["python3.12"]
        assert layer.inputs["compatibleArchitectures"] == ["arm64"]


def test_a_vpc_attached_function_may_call_only_apis_its_vpc_has_an_endpoint_for(plan: PlanRun):
    """GIVEN each VPC-attached function's policy WHEN its services are read THEN each one its
    code calls has an interface endpoint in its VPC: nothing it may do needs a NAT."""
    endpoints = {
        (e.region, e.inputs["serviceName"].rsplit(".", 1)[-1])
        for e in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    }
    attached = [(key, fn) for (key, _), fn in functions(plan).items() if "vpcConfig" in fn.inputs]
    assert {key for key, _ in attached} == set(VPC_API_CALLS)
    for key, fn in attached:
        services = {
            action.split(":", 1)[0]
            for stmt in function_policy(plan, fn)["Statement"]
            for action in stmt["Action"]
        }
        called = services - CALLED_FOR_THE_FUNCTION
        assert called == VPC_API_CALLS[key], key
        assert {(fn.region, s) for s in called} <= endpoints, f"{key} needs NAT for {called}"


def test_no_function_reaches_an_api_through_another_vpcs_endpoint(plan: PlanRun):
    """GIVEN every function's environment WHEN read THEN no endpoint URL: the functions that call
    the other region's APIs run outside the VPC and use the regional endpoints."""
    for (key, _), fn in functions(plan).items():
        variables = fn.inputs["environment"]["variables"]
        assert not any("vpce" in str(value) for value in variables.values()), key
        assert not {"RDS_ENDPOINT_URLS", "PEER_RDS_ENDPOINT_URL"} & set(variables), key


def invokable(plan: PlanRun, fn) -> set[str]:
    """The function ARNs `fn`'s role may invoke."""
    return {
        resource
        for stmt in function_policy(plan, fn)["Statement"]
        if "lambda:InvokeFunction" in stmt["Action"]
        for resource in stmt["Resource"]
    }


def test_the_peer_watch_probes_through_its_checker_and_pages_its_coordinator(plan: PlanRun):
    deployed = functions(plan)
    for region in region_roles(plan).values():
        watch = deployed[("peer_watch", region)]
        checker = deployed[("health_checker", region)]
        coordinator = deployed[("failover_coordinator", region)]
        variables = watch.inputs["environment"]["variables"]
        assert variables["HEALTH_CHECKER_FUNCTION_NAME"] == checker.inputs["name"]
        assert variables["COORDINATOR_FUNCTION_NAME"] == coordinator.inputs["name"]
        assert invokable(plan, watch) == {checker.outputs["arn"], coordinator.outputs["arn"]}
        # the checker in the VPC calls no Lambda any more: the page is the watch's
        assert invokable(plan, checker) == set()
        assert "COORDINATOR_FUNCTION_NAME" not in checker.inputs["environment"]["variables"]
        coordinator_env = coordinator.inputs["environment"]["variables"]
        assert coordinator_env["LOCAL_HEALTH_CHECKER_FUNCTION_NAME"] == checker.inputs["name"]


def actions_of(plan: PlanRun, fn) -> set[str]:
    """Every action `fn`'s role may take."""
    return {a for stmt in function_policy(plan, fn)["Statement"] for a in stmt["Action"]}


def test_least_privilege_follows_the_work_out_of_the_vpc(plans: dict[str, PlanRun]):
    """GIVEN both stacks WHEN the roles are read THEN the health checker may read its secret and
    nothing of RDS or CloudWatch; the watch publishes the health metrics in their namespace only;
    rotation calls no RDS API; the verifier reads no secret and may ask its region's checker
    for the restore probe only where the sizing restores; the coordinator may run both regions'
    health runs."""
    for stack, plan in plans.items():
        deployed, roles = functions(plan), region_roles(plan)
        for region in roles.values():
            checker, watch = deployed[("health_checker", region)], deployed[("peer_watch", region)]
            assert {a.split(":")[0] for a in actions_of(plan, checker)} == {
                "logs",
                "sns",
                "kms",
                "ec2",
                "secretsmanager",
            }
            (publish,) = [
                stmt
                for stmt in function_policy(plan, watch)["Statement"]
                if "cloudwatch:PutMetricData" in stmt["Action"]
            ]
            assert publish["Condition"] == {"StringEquals": {"cloudwatch:namespace": NAMESPACE}}
            coordinator = deployed[("failover_coordinator", region)]
            watches = {deployed[("peer_watch", r)].outputs["arn"] for r in roles.values()}
            assert watches <= invokable(plan, coordinator)
        rotation = deployed[("secret_rotation", roles["primary"])]
        assert not any(a.startswith("rds:") for a in actions_of(plan, rotation))
        verifier = deployed[("backup_verifier", roles["dr"])]
        assert not any(a.startswith("secretsmanager:") for a in actions_of(plan, verifier))
        checker = deployed[("health_checker", roles["dr"])]
        expected = (
            {checker.outputs["arn"]}
            if SIZING[{"dev": "test", "prod": "prod"}[stack]].restore_test
            else set()
        )
        assert invokable(plan, verifier) == expected, stack
        env = verifier.inputs["environment"]["variables"]
        assert env.get("HEALTH_CHECKER_FUNCTION_NAME") == (
            checker.inputs["name"] if expected else None
        )


def test_dev_reserves_no_concurrency_and_prod_reserves_some_for_every_function(
    plans: dict[str, PlanRun],
):
    # GIVEN both stacks: a new account's reduced Lambda quota refuses any reservation, and in a
    # regional failover the surviving region's shared pool can be exhausted by the application
    dev, prod = functions(plans["dev"]), functions(plans["prod"])
    # THEN no dev function registers a reservation at all (not even -1 or 0)
    assert dev and all("reservedConcurrentExecutions" not in fn.inputs for fn in dev.values())
    # AND every prod function reserves a small, positive number, the coordinator exactly one
    reserved = {key: int(fn.inputs["reservedConcurrentExecutions"]) for key, fn in prod.items()}
    assert set(reserved) == set(prod) and all(1 <= value <= 5 for value in reserved.values())
    assert {reserved[key] for key in reserved if key[0] == "failover_coordinator"} == {1}


def test_readme_states_the_per_region_quota_prod_needs():
    # GIVEN prod's reservations per region and the account's minimum unreserved concurrency
    reservations = SIZING["prod"].reserved_concurrency
    per_region = max(reservations.region_total(functions_in(role)) for role in (PRIMARY, DR))
    needed = LAMBDA_MINIMUM_UNRESERVED_CONCURRENCY + per_region
    # THEN the README's prerequisite names exactly that sum and that quota
    readme = (PROJECT_DIR / "README.md").read_text()
    assert f"That is {per_region} reserved executions in each" in readme
    assert f"**{needed}** concurrent executions" in readme


def test_every_function_environment_is_under_its_regions_key_which_its_role_may_decrypt(
    plan: PlanRun,
):
    # GIVEN each region's key and each function's role policy
    keys = key_arns_by_region(plan)
    roles = {r.outputs["arn"]: r.id for r in plan.of_type("aws:iam/role:Role")}
    policies = policies_by_role_id(plan)
    for (key, region), fn in functions(plan).items():
        # THEN the environment is encrypted with the function's own region's key
        assert fn.inputs.get("kmsKeyArn") == keys[region], f"{key} in {region}"
        # AND the function's role may decrypt with that key (else the function cannot start)
        statements = policies[roles[fn.inputs["role"]]]["Statement"]
        assert any(
            "kms:Decrypt" in st["Action"] and keys[region] in st["Resource"] for st in statements
        ), f"{key} in {region} may not decrypt its environment"


def _lock_tables(plan: PlanRun) -> dict[str, object]:
    """Region -> the lock table registered there."""
    return {t.region: t for t in plan.of_type("aws:dynamodb/table:Table")}


def test_both_coordinators_lock_in_either_regions_table_and_nothing_else(plan: PlanRun):
    roles = region_roles(plan)
    tables = _lock_tables(plan)
    deployed = functions(plan)
    for region in roles.values():
        coordinator = deployed[("failover_coordinator", region)]
        peer = next(r for r in roles.values() if r != region)
        # the environment names both tables: a role change locks in its target region's
        variables = coordinator.inputs["environment"]["variables"]
        assert variables["LOCAL_LOCK_TABLE_NAME"] == tables[region].inputs["name"]
        assert variables["PEER_LOCK_TABLE_NAME"] == tables[peer].inputs["name"]
        assert variables["FAILED_LOCK_BLOCK_MINUTES"] == "30"
        # the policy allows exactly the lock's three calls on both tables, on nothing else
        lock_statements = [
            stmt
            for stmt in function_policy(plan, coordinator)["Statement"]
            if any(action.startswith("dynamodb:") for action in stmt["Action"])
        ]
        (statement,) = lock_statements
        assert statement["Action"] == [
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
        ]
        assert set(statement["Resource"]) == {t.outputs["arn"] for t in tables.values()}
    # no other function touches the lock
    for (key, _), fn in deployed.items():
        if key == "failover_coordinator":
            continue
        actions = {a for stmt in function_policy(plan, fn)["Statement"] for a in stmt["Action"]}
        assert not {a for a in actions if a.startswith("dynamodb:")}, key


def test_backup_verifier_always_knows_its_regions_key_and_topic(plan: PlanRun):
    roles = region_roles(plan)
    verifier = functions(plan)[("backup_verifier", roles["dr"])]
    variables = verifier.inputs["environment"]["variables"]
    topics = {t.region: t.outputs["arn"] for t in plan.of_type("aws:sns/topic:Topic")}
    # whatever the sizing: a copy from the other region must name a key of this one
    assert variables["DR_KMS_KEY_ID"] == key_arns_by_region(plan)[roles["dr"]]
    assert variables["SNS_TOPIC_ARN"] == topics[roles["dr"]]
    # no sizing has the verifier copy snapshots itself: prod verifies AWS Backup's copy in the
    # DR vault, the test stack (no restore test) does not pay for a daily cross-region copy
    assert variables["COPY_SNAPSHOT_ENABLED"] == "false"
    # ... and may publish there (the base statement every function has)
    publishable = {
        resource
        for stmt in function_policy(plan, verifier)["Statement"]
        if "sns:Publish" in stmt["Action"]
        for resource in stmt["Resource"]
    }
    assert publishable == {topics[roles["dr"]]}


def test_a_stale_or_unverified_backup_alarms_in_the_dr_region_on_its_topic(plan: PlanRun):
    roles = region_roles(plan)
    topics = {t.outputs["arn"]: t.region for t in plan.of_type("aws:sns/topic:Topic")}
    alarms = [
        a
        for a in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.inputs["metricName"] == "VerificationSucceeded"
    ]
    (alarm,) = alarms
    inputs = alarm.inputs
    verifier = functions(plan)[("backup_verifier", roles["dr"])]
    suffix = verifier.inputs["environment"]["variables"]["ENVIRONMENT_SUFFIX"]
    assert alarm.region == roles["dr"]
    assert inputs["namespace"] == "AuroraDR/Automation"
    assert inputs["dimensions"] == {"Environment": suffix, "service": "backup_verifier"}
    assert (inputs["statistic"], inputs["comparisonOperator"], inputs["threshold"]) == (
        "Minimum",
        "LessThanThreshold",
        1,
    )
    assert inputs["treatMissingData"] == "breaching"
    assert (inputs["period"], inputs["evaluationPeriods"]) == (25 * 3600, 1)
    assert [topics[a] for a in inputs["alarmActions"]] == [roles["dr"]]
    assert [topics[a] for a in inputs["okActions"]] == [roles["dr"]]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_watch_and_the_coordinator_register_the_knobs_the_plan_models(
    plans: dict[str, PlanRun], stack: str
):
    sizing = SIZING[{"dev": "test", "prod": "prod"}[stack]]
    deployed = functions(plans[stack])
    for region in region_roles(plans[stack]).values():
        watch = deployed[("peer_watch", region)].inputs["environment"]["variables"]
        assert float(watch["PROBE_CADENCE_SECONDS"]) == sizing.peer_probe_cadence_seconds
        assert float(watch["CONFIRMATION_WINDOW_SECONDS"]) == sizing.confirmation_window_seconds
        assert float(watch["EXECUTION_SECONDS"]) == sizing.health_check_rate_minutes * 60
        coordinator = deployed[("failover_coordinator", region)].inputs["environment"]["variables"]
        assert float(coordinator["POLL_INTERVAL_SECONDS"]) == sizing.failover_poll_seconds
        for variables in (watch, coordinator):
            assert float(variables["PEER_PROBE_TIMEOUT_SECONDS"]) == (
                sizing.probe_timeout_seconds + PEER_PROBE_INVOKE_ALLOWANCE_SECONDS
            )
            assert float(variables["IN_REGION_FAILOVER_EXCUSE_SECONDS"]) == (
                sizing.in_region_failover_excuse_seconds
            )
            assert (
                float(variables["REMOTE_CONNECT_TIMEOUT_SECONDS"]),
                float(variables["REMOTE_READ_TIMEOUT_SECONDS"]),
                int(variables["REMOTE_MAX_ATTEMPTS"]),
            ) == (
                REMOTE_CALL_BUDGET.connect_timeout_seconds,
                REMOTE_CALL_BUDGET.read_timeout_seconds,
                REMOTE_CALL_BUDGET.max_attempts,
            )


def test_each_ticker_is_an_express_loop_over_its_own_watch_started_once_a_minute(plan: PlanRun):
    deployed = functions(plan)
    roles = {r.outputs["arn"]: r for r in plan.of_type("aws:iam/role:Role")}
    policies = policies_by_role_id(plan)
    targets = plan.of_type("aws:cloudwatch/eventTarget:EventTarget")
    machines = plan.of_type(STATE_MACHINE)
    ticking = SIZING[SIZING_OF[plan.stack]].peer_watch_ticker
    assert {m.region for m in machines} == (set(region_roles(plan).values()) if ticking else set())
    for machine in machines:
        watch = deployed[("peer_watch", machine.region)]
        definition = json.loads(machine.inputs["definition"])
        assert machine.inputs["type"] == "EXPRESS"
        assert invoked_functions(definition) == [watch.outputs["arn"]]
        assert definition["States"]["Wait for the next tick"]["TimestampPath"] == "$.nextTickAt"
        # the state machine may invoke its watch and nothing else
        role = roles[machine.inputs["roleArn"]]
        assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
            "Service": "states.amazonaws.com"
        }
        assert policies[role.id]["Statement"] == [
            {
                "Effect": "Allow",
                "Action": ["lambda:InvokeFunction"],
                "Resource": [watch.outputs["arn"]],
            }
        ]
        # one schedule target starts it, with the watch's start input, through a role that may
        # start this state machine only
        (start,) = [t for t in targets if t.inputs["arn"] == machine.outputs["arn"]]
        assert json.loads(start.inputs["input"]) == WATCH_START_EVENT
        start_role = roles[start.inputs["roleArn"]]
        assert policies[start_role.id]["Statement"] == [
            {
                "Effect": "Allow",
                "Action": ["states:StartExecution"],
                "Resource": [machine.outputs["arn"]],
            }
        ]
