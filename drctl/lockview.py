"""The coordinator's lock item as an operator sees it (pure: parsing and judging).

The coordinator writes the item (`lambdas/failover_coordinator/lock.py` documents its states);
drctl only reads it, and `unlock` deletes it on the condition that it is still the item shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambdas.drcommon.contract import LOCK_TABLE

IN_PROGRESS, COMPLETED = "in_progress", "completed"
# States of an attempt that went wrong: they block the coordinator's unforced requests.
BLOCKING = frozenset({"failed", "unconfirmed"})
# The attributes `unlock` conditions its delete on: the item must still be the one shown.
IDENTITY = ("State", "Owner", "UpdatedAt")


@dataclass(frozen=True)
class LockView:
    """One lock item, read from the lock table of `region`."""

    region: str
    table: str
    lock_id: str
    state: str
    owner: str
    operation: str
    target_region: str
    acquired_at: int | None
    updated_at: int | None
    expires_at: int | None
    detail: str
    raw: dict[str, Any]

    def age_seconds(self, now: float) -> float | None:
        """Seconds since the item was last written (None when it carries no time)."""
        stamp = self.updated_at if self.updated_at is not None else self.acquired_at
        return None if stamp is None else max(0.0, now - stamp)

    def live(self, now: float) -> bool:
        """An `in_progress` lease within its expiry: a role change is running right now."""
        return self.state == IN_PROGRESS and (self.expires_at is None or self.expires_at >= now)

    def problem(self, now: float) -> str | None:
        """Why this item needs a human, or None."""
        if self.state in BLOCKING:
            return f"lock in {self.region} is {self.state}: {self.detail or 'no detail'}"
        if self.state == IN_PROGRESS and not self.live(now):
            return f"lock in {self.region} is a stale in_progress lease of {self.owner}"
        if self.state not in (IN_PROGRESS, COMPLETED):
            return f"lock in {self.region} is in an unknown state {self.state!r}"
        return None

    def describe(self, now: float) -> str:
        """One line for a terminal."""
        age = self.age_seconds(now)
        aged = "age unknown" if age is None else f"{age:.0f} s old"
        return (
            f"{self.state} by {self.owner or '?'} ({self.operation or '?'} to "
            f"{self.target_region or '?'}), {aged}: {self.detail or 'no detail'}"
        )

    def to_dict(self, now: float) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "region": self.region,
            "table": self.table,
            "state": self.state,
            "owner": self.owner,
            "operation": self.operation,
            "targetRegion": self.target_region,
            "ageSeconds": self.age_seconds(now),
            "expiresAt": self.expires_at,
            "detail": self.detail,
            "problem": self.problem(now),
        }


def _text(item: dict[str, Any], name: str) -> str:
    return str(item.get(name, {}).get("S", ""))


def _number(item: dict[str, Any], name: str) -> int | None:
    value = item.get(name, {}).get("N")
    return None if value is None else int(float(value))


def parse_lock(item: dict[str, Any], *, region: str, table: str) -> LockView:
    """A `LockView` from a DynamoDB item (low-level attribute-value form)."""
    return LockView(
        region=region,
        table=table,
        lock_id=_text(item, LOCK_TABLE.partition_key),
        state=_text(item, "State"),
        owner=_text(item, "Owner"),
        operation=_text(item, "Operation"),
        target_region=_text(item, "TargetRegion"),
        acquired_at=_number(item, "AcquiredAt"),
        updated_at=_number(item, "UpdatedAt"),
        expires_at=_number(item, LOCK_TABLE.ttl_attribute),
        detail=_text(item, "Detail"),
        raw=item,
    )


def unchanged_condition(view: LockView) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A DynamoDB condition that holds only while the item is the one `view` shows.

    Each identity attribute must equal what was shown, or be absent if it was absent.
    """
    clauses, names, values = [], {}, {}
    for index, name in enumerate(IDENTITY):
        names[f"#a{index}"] = name
        if name in view.raw:
            clauses.append(f"#a{index} = :v{index}")
            values[f":v{index}"] = view.raw[name]
        else:
            clauses.append(f"attribute_not_exists(#a{index})")
    return " AND ".join(clauses), names, values
