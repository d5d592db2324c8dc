"""Pure rules of the backup verifier: which snapshot, how old, which resources are ours.

Everything the verifier creates carries the tags below *and* an identifier starting with
`<prefix>-<environment>-`; the sweep deletes only what matches both, so a tagging mistake on some
other resource, or a name collision, is never enough to delete it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drcommon.contract import VERIFIER_RESOURCES

# The purpose tag is the contract's: the stack scopes the verifier's permissions to it.
PURPOSE_TAG = VERIFIER_RESOURCES.purpose_tag
PURPOSE = VERIFIER_RESOURCES.purpose
ENVIRONMENT_TAG = "aurora-dr:environment"
MANAGED_BY_TAG = "ManagedBy"
MANAGED_BY = "backup_verifier"


def resource_tags(environment: str) -> list[dict[str, str]]:
    """The tags put on every copied snapshot, restored cluster and instance."""
    return [
        {"Key": PURPOSE_TAG, "Value": PURPOSE},
        {"Key": ENVIRONMENT_TAG, "Value": environment},
        {"Key": "Environment", "Value": environment},
        {"Key": "Project", "Value": "aurora-dr"},
        {"Key": MANAGED_BY_TAG, "Value": MANAGED_BY},
    ]


def tag_map(tag_list: Iterable[Mapping[str, str]] | None) -> dict[str, str]:
    """`TagList` -> {key: value}."""
    return {t["Key"]: t.get("Value", "") for t in tag_list or []}


def is_ours(
    identifier: str,
    tag_list: Iterable[Mapping[str, str]] | None,
    *,
    stem: str,
    environment: str,
) -> bool:
    """True for a resource this verifier created for this environment (tags *and* name).

    `stem` is `<prefix>-<environment>`, the start of every identifier the verifier creates.
    """
    tags = tag_map(tag_list)
    return (
        tags.get(PURPOSE_TAG) == PURPOSE
        and tags.get(ENVIRONMENT_TAG) == environment
        and identifier.lower().startswith(f"{stem}-")
    )


def run_identifier(stem: str, now: datetime) -> str:
    """The identifier of this run's copy and restored cluster (`<stem>-<yyyymmddHHMMSS>`)."""
    return f"{stem}-{now:%Y%m%d%H%M%S}"


@dataclass(frozen=True)
class Snapshot:
    """A DB cluster snapshot, as far as the verifier cares."""

    identifier: str
    arn: str
    cluster_id: str
    created: datetime | None
    status: str
    snapshot_type: str
    engine: str
    engine_version: str | None
    kms_key_id: str | None

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> Snapshot:
        """From one `DBClusterSnapshots` element."""
        return cls(
            identifier=item["DBClusterSnapshotIdentifier"],
            arn=item.get("DBClusterSnapshotArn", ""),
            cluster_id=item.get("DBClusterIdentifier", ""),
            created=item.get("SnapshotCreateTime"),
            status=item.get("Status", "unknown"),
            snapshot_type=item.get("SnapshotType", ""),
            engine=item.get("Engine", "aurora-postgresql"),
            engine_version=item.get("EngineVersion"),
            kms_key_id=item.get("KmsKeyId"),
        )


def newest_available(snapshots: Iterable[Snapshot]) -> Snapshot | None:
    """The most recent `available` snapshot (one still being created cannot be copied)."""
    candidates = [s for s in snapshots if s.status == "available" and s.created is not None]
    return max(candidates, key=lambda s: s.created or datetime.min, default=None)


@dataclass(frozen=True)
class Freshness:
    """Whether the newest snapshot is recent enough."""

    fresh: bool
    age_seconds: float | None
    detail: str


def assess(snapshot: Snapshot | None, now: datetime, max_age_hours: float) -> Freshness:
    """Compare the snapshot's age with the allowed maximum."""
    if snapshot is None or snapshot.created is None:
        return Freshness(False, None, "no available automated snapshot of the writer cluster")
    age = (now - snapshot.created).total_seconds()
    limit = max_age_hours * 3600
    if age > limit:
        return Freshness(
            False,
            age,
            f"newest snapshot {snapshot.identifier} is {age / 3600:.1f} h old "
            f"(maximum {max_age_hours:g} h)",
        )
    return Freshness(True, age, f"newest snapshot {snapshot.identifier} is {age / 3600:.1f} h old")


def older_than(created: datetime | None, now: datetime, hours: float) -> bool:
    """True when `created` is known and more than `hours` before `now`."""
    return created is not None and (now - created).total_seconds() > hours * 3600
