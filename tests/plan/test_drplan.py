"""The offline plan: what a platform engineer runs and reads."""

from __future__ import annotations

import io
import json
import re

import pytest

from decisions.network import COMPLIANCE_ENDPOINT_SERVICES
from drplan import readme, terminal
from drplan.__main__ import main
from drplan.compare import difference
from drplan.harness import PROJECT_DIR
from drplan.render import SCHEMA_VERSION
from drplan.review import review, stack_settings


@pytest.mark.usefixtures("served_runs")
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_plan_prints_both_regions_the_peering_and_the_outputs(stack, capsys):
    # WHEN the plan of a stack is printed
    assert main(["--stack", stack]) == 0
    out = capsys.readouterr().out
    # THEN it names both regions, the VPCs, subnets, peering and accepter, and the outputs
    assert "-- us-east-1" in out and "-- us-west-2" in out
    assert "ec2:VpcPeeringConnection" in out and "ec2:VpcPeeringConnectionAccepter" in out
    assert f"aurora-dr-vpc-use1-{stack}" in out and f"aurora-dr-vpc-usw2-{stack}" in out
    assert "== Stack outputs" in out and "peeringConnectionId" in out


@pytest.mark.usefixtures("served_runs")
def test_json_has_a_schema_version_and_the_readme_documents_every_field(capsys):
    assert main(["--stack", "dev", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["schema_version"] == SCHEMA_VERSION == 1
    # Every field of the document and of its inventory and cost is in the README's table.
    text = (PROJECT_DIR / "README.md").read_text()
    section = text[text.index("### The plan's JSON") :]
    documented = set(re.findall(r"`([a-z_.]+)(?:\[\])?`", section))
    fields = set(document) | {f"{k}.{f}" for k in ("inventory", "cost") for f in document[k]}
    fields -= {"cost.sizing", "cost.stack", "inventory.stack"}  # the stack's own, repeated
    undocumented = {
        f
        for f in fields
        if f not in documented and not any(d.startswith(f"{f}.") for d in documented)
    }
    assert undocumented == set()


@pytest.mark.usefixtures("served_runs")
def test_json_repeats_the_stack_and_sizing_it_describes_in_each_part(capsys):
    assert main(["--stack", "prod", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["stack"] == document["inventory"]["stack"] == document["cost"]["stack"]
    assert (document["stack"], document["cost"]["sizing"]) == ("prod", "prod")


@pytest.mark.usefixtures("served_runs")
def test_json_plan_counts_what_the_issue_promises(capsys):
    assert main(["--stack", "dev", "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)["inventory"]
    totals = plan["totals"]
    assert totals["aws:ec2/vpc:Vpc"] == 2
    assert totals["aws:ec2/subnet:Subnet"] == 6
    assert totals["aws:ec2/vpcPeeringConnection:VpcPeeringConnection"] == 1
    assert totals["aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"] == 1
    routes = [
        component["counts"].get("aws:ec2/route:Route", 0)
        for region in ("us-east-1", "us-west-2")
        for component in plan["regions"][region].values()
    ]
    assert sum(routes) >= 4


def test_bad_configuration_exits_non_zero_with_the_message_and_no_traceback(capsys):
    assert main(["--stack", "dev", "--config", "drRegion=us-east-1"]) == 2
    captured = capsys.readouterr()
    assert "primaryRegion and drRegion are both 'us-east-1'" in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_unknown_stack_names_the_stacks_that_exist(capsys):
    assert main(["--stack", "staging"]) == 2
    err = capsys.readouterr().err
    assert "no stack 'staging'" in err and "dev" in err and "prod" in err


# -- the terminal ----------------------------------------------------------------------------------


class FakeTerminal(io.StringIO):
    """A captured stdout that says it is a terminal, as a tty does."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No colour forced or refused from outside: what rich decides is up to the output."""
    for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


@pytest.mark.usefixtures("served_runs", "plain_environment")
@pytest.mark.parametrize("columns", [80, 100])
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_text_output_fits_the_width_and_is_plain_when_piped(stack, columns, monkeypatch, capsys):
    # GIVEN a COLUMNS the terminal (or the user) sets, and stdout that is not a terminal
    monkeypatch.setenv("COLUMNS", str(columns))
    # WHEN the plan is printed
    assert main(["--stack", stack]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    # THEN no line is wider than COLUMNS, and it is plain ASCII text: no colour, no box drawing
    too_wide = [line for line in lines if len(line) > columns]
    assert too_wide == [], f"{len(too_wide)} lines over {columns}: {too_wide[:3]}"
    assert "\x1b[" not in out
    assert out.isascii()
    # AND nothing of the plan is lost to the width: every section is there
    for heading in ("== Inventory", "== Monthly cost estimate", "== Recovery budget", "== Checks"):
        assert any(line.startswith(heading) for line in lines), heading
    assert "== Stack outputs" in lines


@pytest.mark.usefixtures("served_runs")
def test_nested_outputs_are_one_row_per_leaf(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["--stack", "prod"]) == 0
    rows = {
        line.split()[0]: line.split()[1]
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("functionArns")
    }
    assert rows["functionArns.health_checker.us-east-1"] == (
        "arn:aws:lambda:us-east-1:123456789012:function:aurora-dr-health-checker-use1-prod"
    )
    # 2 drainers, 2 checkers, 2 coordinators, 2 peer watches, 1 rotation, 1 verifier
    assert len(rows) == 10


@pytest.mark.usefixtures("plain_environment")
def test_a_terminal_gets_colour_and_the_same_words(plans):
    # GIVEN the review printed once to a terminal and once to a pipe
    item = review(plans["dev"])
    on_terminal, piped = FakeTerminal(), io.StringIO()
    terminal.print_review(terminal.make_console(on_terminal), item)
    terminal.print_review(terminal.make_console(piped), item)
    # THEN only the terminal gets escape sequences, and without them the words are the same
    assert "\x1b[" in on_terminal.getvalue() and "\x1b[" not in piped.getvalue()
    words = re.sub(r"\x1b\[[0-9;]*m", "", on_terminal.getvalue()).split()
    assert [w for w in words if w.isascii() and set(w) != {"-"}] == [
        w for w in piped.getvalue().split() if set(w) != {"-"}
    ]


# -- --compare -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("served_runs")
def test_compare_shows_what_differs_and_the_knobs_that_set_it_not_two_plans(capsys):
    assert main(["--stack", "dev", "--compare", "prod", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    # THEN one side-by-side summary and the differences, and neither stack's full plan
    assert out.count("## Stacks side by side") == 1
    assert "Inventory:" not in out and "## Stack outputs" not in out
    # AND the instance and alarm counts differ per region because of instances_per_region, the
    # extra IAM roles because prod turns enhanced monitoring, AWS Backup and the export on
    rows = {
        (where, type_): (int(test), int(prod), because)
        for where, type_, test, prod, because in re.findall(
            r"^\| (\w+) \| ([\w:]+) \| (\d+) \| (\d+) \| (.*) \|$", out, re.MULTILINE
        )
    }
    assert rows[("primary", "rds:ClusterInstance")] == (1, 2, "instances_per_region: 1 -> 2")
    for where in ("primary", "dr"):
        test, prod, because = rows[(where, "cloudwatch:MetricAlarm")]
        assert test < prod and because == "instances_per_region: 1 -> 2"
    test, prod, because = rows[("global", "iam:Role")]
    # the monitoring, AWS Backup and export roles, and two ticker roles per region
    assert prod == test + 3 + 2 * 2 and because == (
        "monitoring_interval_seconds: 0 -> 60; aws_backup: none -> rules daily, copy; "
        "snapshot_export_every_days: none -> 14; peer_watch_ticker: False -> True"
    )
    for where in ("primary", "dr"):
        assert rows[(where, "sfn:StateMachine")] == (0, 1, "peer_watch_ticker: False -> True")
    assert rows[("dr", "backup:Vault")] == (0, 1, "aws_backup: none -> rules daily, copy")
    # AND every sizing knob that differs is listed, and a knob that does not is not
    assert "| instance_class | db.serverless | db.r6g.xlarge |" in out
    assert "| serverless | min_acu=0.5, max_acu=4.0 | none |" in out
    assert "| az_count |" not in out


@pytest.mark.usefixtures("served_runs")
def test_compare_as_json_has_both_stacks_and_the_difference(capsys):
    assert main(["--stack", "dev", "--compare", "prod", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["schema_version"] == SCHEMA_VERSION
    assert [s["stack"] for s in document["stacks"]] == ["dev", "prod"]
    counts = {(d["where"], d["type"]): d for d in document["difference"]["counts"]}
    instances = counts[("primary", "aws:rds/clusterInstance:ClusterInstance")]
    assert instances["counts"] == [1, 2]
    assert instances["because"] == ["instances_per_region: 1 -> 2"]


# -- help ------------------------------------------------------------------------------------------


def test_help_shows_examples_and_every_exit_code(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "python -m drplan --stack dev --compare prod" in out
    assert "exit codes:" in out
    for code, meaning in (
        (0, "the plan was printed"),
        (1, "--check: a check failed"),
        (2, "bad input"),
    ):
        assert f"  {code}  {meaning}" in out


def test_readme_help_prints_help_and_leaves_the_readme_alone(monkeypatch, capsys):
    def must_not_write(*_args, **_kwargs):
        raise AssertionError("README.md rewritten by --help")

    monkeypatch.setattr(readme, "rewrite", must_not_write)
    monkeypatch.setattr(readme, "updated_text", must_not_write)
    with pytest.raises(SystemExit) as exit_info:
        readme.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m drplan.readme") and "--check" in out


@pytest.mark.usefixtures("served_runs")
def test_readme_check_reads_without_writing(monkeypatch, tmp_path, capsys):
    # GIVEN a copy of the README whose generated block is stale
    stale = tmp_path / "README.md"
    text = readme.README.read_text()
    stale.write_text(text.replace("| checks | pass | pass |", "| checks | ? | ? |"))
    monkeypatch.setattr(readme, "README", stale)
    # WHEN --check runs THEN it says so with exit 1 and the file is unchanged
    assert readme.main(["--check"]) == 1
    assert "README.md is stale" in capsys.readouterr().out
    assert stale.read_text() != text and "| checks | ? | ? |" in stale.read_text()


def test_compare_names_a_setting_as_the_reason_when_no_sizing_knob_differs(plans, compliant_prod):
    # GIVEN prod, and prod with complianceEndpoints=true: same sizing
    overrides = {"complianceEndpoints": "true"}
    reviews = [review(plans["prod"]), review(compliant_prod, overrides)]
    settings = [stack_settings("prod"), stack_settings("prod", overrides)]
    # WHEN they are compared
    diff = difference(reviews, settings)
    # THEN only the endpoints differ, one more per compliance service in each VPC, because of
    # that setting alone
    assert {(d.where, d.type, d.because) for d in diff.counts} == {
        (where, "aws:ec2/vpcEndpoint:VpcEndpoint", ("complianceEndpoints: False -> True",))
        for where in ("primary", "dr")
    }
    for row in diff.counts:
        assert row.counts[1] - row.counts[0] == len(COMPLIANCE_ENDPOINT_SERVICES)
    assert [k.knob for k in diff.knobs] == ["complianceEndpoints"]


@pytest.mark.usefixtures("served_runs")
def test_the_plan_shows_who_each_regions_alarms_reach_and_flags_the_placeholder(capsys):
    # GIVEN prod as committed (its alertEmail is the example.com placeholder)
    assert main(["--stack", "prod", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    # THEN each region lists its subscribers, and a warning names the key to replace
    assert document["inventory"]["alert_subscribers"] == {
        region: ["email:oncall-placeholder@example.com"] for region in ("us-east-1", "us-west-2")
    }
    assert any(
        "alertEmail oncall-placeholder@example.com is a placeholder" in w
        for w in document["warnings"]
    )
    # AND the text plan says it under each region, and dev's says its alarms reach no one
    assert main(["--stack", "prod"]) == 0
    assert capsys.readouterr().out.count("alarms reach: email:oncall-placeholder@") == 2
    assert main(["--stack", "dev"]) == 0
    out = capsys.readouterr().out
    assert out.count("alarms reach: no one (set alertEmail or alertHttpsEndpoint)") == 2
    assert "is a placeholder" not in out
    # AND so does the markdown a pull request shows
    assert main(["--stack", "prod", "--format", "markdown"]) == 0
    assert capsys.readouterr().out.count("alarms reach: email:oncall-placeholder@") == 2
