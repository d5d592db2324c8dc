"""The stack's configuration as the Pulumi CLI would hand it to the program, read offline.

`Pulumi.yaml` defaults overlaid with `Pulumi.<stack>.yaml`, keys namespaced `<project>:<key>`,
values as strings. Stack files are taken as `pulumi config set` writes them:

- a `secure:` value (`pulumi config set --secret`) is ciphertext that only the stack's secrets
  provider can decrypt. Offline its value is unknown: it becomes an `UnknownSecret`, which
  `stack.config.parse_settings` accepts without validating (it plans with a stand-in) and names;
- an `environment:` block imports Pulumi ESC environments, whose values are not available
  offline: named in a warning;
- a key in the project's namespace that the program does not read is most likely a typo: named
  in a warning with the closest key it does read.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from stack.config import CONFIG_KEYS, PROJECT

# The text an undecryptable value carries into the program (a physical-name-safe word: a
# secret `environmentSuffix` would end every name with it).
UNDECRYPTED_TEXT = "secret"


class UnknownSecret(str):
    """A `secure:` value the plan cannot decrypt. Only this module creates one; under
    `pulumi up` every value arrives decrypted as a plain `str`, so there the program validates
    everything (see `stack.config.is_unknown_secret`)."""

    unknown_secret = True

    def __new__(cls) -> UnknownSecret:
        return super().__new__(cls, UNDECRYPTED_TEXT)


@dataclass(frozen=True)
class StackConfig:
    """What the stack files say, ready for the program (`values`) and for the warnings."""

    stack_file: str
    values: dict[str, str]
    """Full key (`aurora-dr:sizing`, `aws:region`) -> value; `UnknownSecret` where encrypted."""
    stack_keys: tuple[str, ...]
    """Full keys the stack file itself sets, in file order."""
    environments: tuple[str, ...]
    """Pulumi ESC environments the stack file imports."""
    known_keys: frozenset[str]
    """Keys of the project namespace the program reads (short names)."""

    @property
    def secret_keys(self) -> list[str]:
        """Full keys whose values are secrets (unknown offline)."""
        return [key for key, value in self.values.items() if isinstance(value, UnknownSecret)]


def read_stack_config(stack: str, project_dir: Path) -> StackConfig:
    """Read `Pulumi.yaml` and `Pulumi.<stack>.yaml`; raises FileNotFoundError naming the stacks
    that exist when there is no such stack."""
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        known = sorted(
            p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml")
        )
        raise FileNotFoundError(
            f"no stack {stack!r}: {stack_file.name} does not exist (stacks: {', '.join(known)})"
        )
    name = project["name"]
    schema = project.get("config") or {}
    values: dict[str, str] = {}
    for key, entry in schema.items():
        if isinstance(entry, dict) and "default" in entry:
            values[f"{name}:{key}"] = config_string(entry["default"])
    document = yaml.safe_load(stack_file.read_text()) or {}
    stack_keys = []
    for key, value in (document.get("config") or {}).items():
        full_key = key if ":" in key else f"{name}:{key}"
        values[full_key] = config_string(value)
        stack_keys.append(full_key)
    return StackConfig(
        stack_file=stack_file.name,
        values=values,
        stack_keys=tuple(stack_keys),
        environments=esc_environments(document.get("environment")),
        known_keys=frozenset(CONFIG_KEYS) | frozenset(schema),
    )


def config_string(value: Any) -> str:
    """A stack-file value as the CLI passes it to the program: strings as they are, booleans
    as `true`/`false`, anything else as JSON; an encrypted value (anywhere inside) as an
    `UnknownSecret`."""
    if _is_encrypted(value):
        return UnknownSecret()
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _is_encrypted(value: Any) -> bool:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return True
        return any(_is_encrypted(v) for v in value.values())
    if isinstance(value, list):
        return any(_is_encrypted(v) for v in value)
    return False


def esc_environments(block: Any) -> tuple[str, ...]:
    """The environment names of a stack file's `environment:` block: a list of names, or a
    mapping with an `imports` list (entries may be `{name: {merge: false}}` mappings)."""
    if block is None:
        return ()
    imports = block.get("imports", []) if isinstance(block, dict) else block
    if isinstance(imports, str):
        imports = [imports]
    names: list[str] = []
    for entry in imports or []:
        names += list(entry) if isinstance(entry, dict) else [str(entry)]
    return tuple(names)


def short_key(key: str) -> str | None:
    """`aurora-dr:sizing` or `sizing` -> `sizing`; a key of another namespace -> None."""
    namespace, sep, short = key.rpartition(":")
    if not sep:
        return key
    return short if namespace == PROJECT else None


def unknown_key_warning(key: str, known: Iterable[str], where: str) -> str | None:
    """A warning for a project key the program does not read, naming the closest known key."""
    short = short_key(key)
    if short is None or short in known:
        return None
    closest = difflib.get_close_matches(short, sorted(known), n=1, cutoff=0.6)
    hint = f"did you mean {closest[0]!r}?" if closest else "the program does not read it"
    return f"{where}: unknown config key {short!r} ({hint}); the plan ignores it"


def config_warnings(config: StackConfig, overrides: Mapping[str, str | None]) -> list[str]:
    """Everything about the configuration a reader of the plan should know: typos, keys that
    could not be decrypted, ESC environments that were not read."""
    warnings = [
        warning
        for keys, where in ((config.stack_keys, config.stack_file), (overrides, "--config"))
        for key in keys
        if (warning := unknown_key_warning(key, config.known_keys, where))
    ]
    for key in config.secret_keys:
        if key in overrides or short_key(key) in overrides:
            continue
        warnings.append(
            f"{config.stack_file}: {key} is a secure value, not decrypted offline: its checks "
            "are skipped and the plan uses a stand-in"
        )
    if config.environments:
        warnings.append(
            f"{config.stack_file} imports ESC environment(s) {', '.join(config.environments)}: "
            "their values are not available offline; keys set only there take Pulumi.yaml "
            "defaults in this plan"
        )
    return warnings
