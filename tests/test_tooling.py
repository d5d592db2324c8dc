"""The tools around the code agree with each other: the Pulumi CLI the workflows install is the
SDK's version, the pre-commit hooks run the venv's pinned tools, and the requirement sets nest as
the Makefile expects (the plan's set inside the test set)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from drplan.harness import PROJECT_DIR

WORKFLOWS = sorted((PROJECT_DIR / ".github" / "workflows").glob("*.yml"))


def pinned(requirements: str, package: str) -> str:
    """The `==` version of `package` in a requirements file."""
    text = (PROJECT_DIR / requirements).read_text()
    match = re.search(rf"^{re.escape(package)}==(\S+)$", text, re.MULTILINE)
    assert match, f"{package} is not pinned in {requirements}"
    return match.group(1)


def pulumi_action_steps() -> list[tuple[str, dict]]:
    """(workflow, step) of every pulumi/actions step."""
    steps = []
    for workflow in WORKFLOWS:
        for job in yaml.safe_load(workflow.read_text())["jobs"].values():
            steps += [
                (workflow.name, step)
                for step in job.get("steps", [])
                if str(step.get("uses", "")).startswith("pulumi/actions@")
            ]
    return steps


def test_the_pulumi_cli_the_workflows_install_is_the_sdks_version():
    assert (PROJECT_DIR / ".pulumi-version").read_text().strip() == pinned(
        "requirements.txt", "pulumi"
    )
    steps = pulumi_action_steps()
    assert len(steps) == 5  # PR preview, dev up, prod preview, prod up, drift
    for workflow, step in steps:
        assert step["with"].get("pulumi-version-file") == ".pulumi-version", (workflow, step)


def test_prod_is_deployed_only_after_a_fresh_preview_in_the_same_run():
    jobs = yaml.safe_load((PROJECT_DIR / ".github/workflows/deploy.yml").read_text())["jobs"]
    preview = [s for s in jobs["prod-preview"]["steps"] if s.get("uses", "").startswith("pulumi/")]
    assert [(s["with"]["command"], s["with"]["stack-name"]) for s in preview] == [
        ("preview", "prod")
    ]
    assert preview[0]["with"]["comment-on-summary"] is True
    assert "prod-preview" in jobs["prod"]["needs"] and jobs["prod"]["environment"] == "prod"


def test_the_drift_check_runs_nightly_on_every_stack_expecting_no_changes():
    workflow = yaml.safe_load((PROJECT_DIR / ".github/workflows/drift.yml").read_text())
    assert workflow[True]["schedule"]  # YAML reads the `on:` key as True
    (job,) = workflow["jobs"].values()
    assert {m["stack"] for m in job["strategy"]["matrix"]["include"]} == {"dev", "prod"}
    (step,) = [s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert step["with"]["command"] == "preview" and step["with"]["expect-no-changes"] is True
    assert any(s.get("if") == "failure()" for s in job["steps"])


def test_the_plan_set_is_inside_the_test_set():
    plan = (PROJECT_DIR / "requirements-plan.txt").read_text()
    dev = (PROJECT_DIR / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in plan.splitlines()
    assert "-r requirements-plan.txt" in dev.splitlines()
    assert "pytest" not in plan and "-r lambdas/requirements-layer.txt" not in plan


def test_the_pre_commit_hooks_are_valid_and_run_the_venvs_pinned_tools():
    config_path = PROJECT_DIR / ".pre-commit-config.yaml"
    pre_commit = Path(sys.executable).parent / "pre-commit"
    result = subprocess.run(
        [str(pre_commit), "validate-config", str(config_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    hooks = {
        h["id"]: h for r in yaml.safe_load(config_path.read_text())["repos"] for h in r["hooks"]
    }
    assert {"ruff-check", "ruff-format", "mypy", "actionlint"} <= set(hooks)
    for hook in hooks.values():
        assert hook["language"] == "system"
        tool = hook["entry"].split()[0]
        assert tool == "make" or tool.startswith("venv/bin/"), hook["id"]
    pinned("requirements-dev.txt", "pre-commit")


def test_every_module_make_mutate_plants_bugs_in_exists():
    # A module that moved leaves a stale path behind, and mutmut then skips it without a word:
    # the health evaluation went unmutated that way once.
    mutmut = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["tool"]["mutmut"]
    missing = [path for path in mutmut["source_paths"] if not (PROJECT_DIR / path).is_file()]
    assert missing == []
    assert "lambdas/drcommon/health.py" in mutmut["source_paths"]
