"""A DynamoDB lease lock so two invocations - in either region - never run a role change twice.

One lock per global cluster, in the lock table of the role change's *target* region: both
regions' coordinators contend on it, and it is reachable exactly when the action can happen (a
failover target must be up anyway). Each region has a table (created by the stack):

* partition key `LockId` (String) - the global cluster identifier; no sort key;
* TTL attribute `ExpiresAt` (Number, epoch seconds).

Item states:

* `in_progress` - held by `Owner` (the Lambda request id) until `ExpiresAt`. A lease past its
  expiry is stale (the holder crashed or timed out) and may be taken over. The condition checks
  the expiry itself: DynamoDB's TTL deletion is lazy (up to days) and only tidies up.
* `completed`   - released after a confirmed role change (or after finding nothing to do); free
  to take. Kept for a week as a record, then TTL-deleted.
* `failed`      - an attempt failed mid-way (RDS refused for a reason the topology does not
  explain, or something broke after the lock was taken). Blocks unforced requests for a bounded
  time after it was recorded (`UpdatedAt` + the block, `FAILED_LOCK_BLOCK_MINUTES`), so nobody
  repeats a failed role change blindly while an operator may be repairing the cluster; after
  that an automatic trigger may act again (its gates still apply) and says it overrode an
  expired failed lock. A request with `force` (an operator's) is never blocked by it. An item
  without `UpdatedAt`, or in a state edited in by hand, blocks until cleared or forced.
* `unconfirmed` - the operation was started but its end was not seen within the Lambda's time.
  Blocks like `failed`; the RDS completion/failure event for the global cluster resolves it to
  `completed`/`failed` when it arrives.

Every page about a blocking lock says how to clear it: `clear_instructions` is that text.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from drcommon.aws import Clock, error_code
from drcommon.contract import LOCK_TABLE

# The table's schema is the contract's (the stack creates the table from it).
KEY = LOCK_TABLE.partition_key
TTL_ATTRIBUTE = LOCK_TABLE.ttl_attribute
COMPLETED_RETENTION_SECONDS = 7 * 24 * 3600


class LockState(StrEnum):
    """States of the lock item (module docstring)."""

    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"


# The states of an attempt that went wrong: they block unforced requests for a bounded time.
BLOCKING_STATES = frozenset({LockState.FAILED, LockState.UNCONFIRMED})


def clear_instructions(table: str, region: str, lock_id: str) -> str:
    """How an operator clears the lock item `lock_id` of `table` in `region`.

    The one place this text is written: every page about a blocking lock carries it.
    """
    key = json.dumps({KEY: {"S": lock_id}}, separators=(",", ":"))
    arguments = ["delete-item", "--region", region, "--table-name", table, "--key", key]
    command = shlex.join(["aws", "dynamodb", *arguments])
    return (
        f"to clear the lock: `python -m drctl unlock --stack <stack> --region {region}` (shows "
        f"the holder and age first, and deletes only the item it showed), or {command}; a "
        "manual request with force acts over it without clearing it"
    )


@dataclass(frozen=True)
class LockRecord:
    """The lock item as read from the table."""

    lock_id: str
    state: LockState
    owner: str
    operation: str
    target_region: str
    expires_at: int | None
    detail: str
    updated_at: int | None = None

    @property
    def blocking(self) -> bool:
        """A `failed`/`unconfirmed` attempt (blocks unforced requests for a while)."""
        return self.state in BLOCKING_STATES

    def blocked_until(self, block_seconds: int) -> int | None:
        """When a blocking item stops blocking unforced requests (None: until cleared)."""
        if not self.blocking or self.updated_at is None:
            return None
        return self.updated_at + block_seconds

    def is_stale(self, now: float) -> bool:
        """An `in_progress` lease whose holder is past its expiry."""
        return (
            self.state is LockState.IN_PROGRESS
            and self.expires_at is not None
            and self.expires_at < now
        )

    def describe(self) -> str:
        """One line for notifications."""
        return (
            f"lock {self.lock_id} is {self.state.value} (owner {self.owner}, "
            f"{self.operation} to {self.target_region}): {self.detail or 'no detail'}"
        )


class LockUnavailable(Exception):
    """The lock is held by a live lease or blocked by an unresolved failed attempt."""

    def __init__(self, record: LockRecord | None, *, blocked_until: int | None = None) -> None:
        message = record.describe() if record else "lock is held"
        if record is not None and record.blocking:
            message += (
                f"; blocks unforced requests until {_utc(blocked_until)}"
                if blocked_until is not None
                else "; blocks unforced requests until cleared"
            )
        super().__init__(message)
        self.record = record
        self.blocked_until = blocked_until

    @property
    def blocked_by_failure(self) -> bool:
        """True when an earlier attempt failed (operator attention needed)."""
        return self.record is not None and self.record.blocking


@dataclass
class FailoverLock:
    """The lock item for one global cluster in `table_name` (in `region`), accessed with a
    DynamoDB client of that region. `failed_block_seconds`: how long a `failed`/`unconfirmed`
    item blocks unforced requests."""

    dynamodb: Any
    table_name: str
    region: str
    lock_id: str
    clock: Clock
    lease_seconds: int
    failed_block_seconds: int

    def clear_instructions(self) -> str:
        """How to clear this lock item (`clear_instructions`)."""
        return clear_instructions(self.table_name, self.region, self.lock_id)

    def read(self) -> LockRecord | None:
        """The current item (strongly consistent), or None when there is none."""
        response = self.dynamodb.get_item(
            TableName=self.table_name, Key={KEY: {"S": self.lock_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return _record(item) if item else None

    def acquire(
        self, *, owner: str, operation: str, target_region: str, force: bool
    ) -> LockRecord | None:
        """Take the lock for `owner`; returns the item it replaced (None when there was none),
        or raises `LockUnavailable` with the current holder.

        Free when there is no item, the last attempt completed, the lease is stale, or a
        `failed`/`unconfirmed` item is older than the block. `force` also takes over a younger
        `failed`/`unconfirmed` item, never a live lease: force is an operator overriding a
        judgement, not a way to run two role changes at once.
        """
        now = int(self.clock.time())
        condition, values = self._free_condition(now, force)
        item = {
            KEY: {"S": self.lock_id},
            "State": {"S": LockState.IN_PROGRESS.value},
            "Owner": {"S": owner},
            "Operation": {"S": operation},
            "TargetRegion": {"S": target_region},
            "AcquiredAt": {"N": str(now)},
            "UpdatedAt": {"N": str(now)},
            TTL_ATTRIBUTE: {"N": str(now + self.lease_seconds)},
            "Detail": {"S": "forced" if force else ""},
        }
        try:
            response = self.dynamodb.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#state": "State"},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                holder = exc.response.get("Item")
                record = _record(holder) if holder else self.read()
                until = record.blocked_until(self.failed_block_seconds) if record else None
                raise LockUnavailable(record, blocked_until=until) from exc
            raise
        replaced = response.get("Attributes")
        return _record(replaced) if replaced else None

    def _free_condition(self, now: int, force: bool) -> tuple[str, dict[str, Any]]:
        """The condition under which the item may be taken now, and its values."""
        condition = (
            f"attribute_not_exists({KEY}) OR #state = :completed "
            f"OR (#state = :in_progress AND {TTL_ATTRIBUTE} < :now) "
            "OR ((#state = :failed OR #state = :unconfirmed) AND UpdatedAt < :block_start)"
        )
        values: dict[str, Any] = {
            ":completed": {"S": LockState.COMPLETED.value},
            ":in_progress": {"S": LockState.IN_PROGRESS.value},
            ":failed": {"S": LockState.FAILED.value},
            ":unconfirmed": {"S": LockState.UNCONFIRMED.value},
            ":now": {"N": str(now)},
            # Recorded before this instant: the block has run out.
            ":block_start": {"N": str(now - self.failed_block_seconds)},
        }
        if force:
            # Anything but a live lease: failed, unconfirmed, or a state edited in by hand.
            condition += " OR #state <> :in_progress"
        return condition, values

    def complete(self, owner: str, detail: str) -> bool:
        """Release after a confirmed role change (kept as a record, TTL-deleted later)."""
        return self._finish(owner, LockState.COMPLETED, detail, keep=False)

    def fail(self, owner: str, detail: str) -> bool:
        """Record a failed attempt: blocks unforced requests for `failed_block_seconds`."""
        return self._finish(owner, LockState.FAILED, detail, keep=True)

    def unconfirmed(self, owner: str, detail: str) -> bool:
        """Record an attempt whose completion was not seen in time."""
        return self._finish(owner, LockState.UNCONFIRMED, detail, keep=True)

    def resolve_unconfirmed(self, *, succeeded: bool, detail: str) -> bool:
        """Turn an `unconfirmed` item into `completed`/`failed` (from an RDS event).

        Returns False when there was nothing unconfirmed to resolve.
        """
        state = LockState.COMPLETED if succeeded else LockState.FAILED
        return self._update(
            state,
            detail,
            keep=not succeeded,
            condition="#state = :expected",
            values={":expected": {"S": LockState.UNCONFIRMED.value}},
        )

    def _finish(self, owner: str, state: LockState, detail: str, *, keep: bool) -> bool:
        # Only the holder may finish: if our lease went stale and another invocation took the
        # lock over, overwriting its item would hide its attempt.
        return self._update(
            state, detail, keep=keep, condition="#owner = :owner", values={":owner": {"S": owner}}
        )

    def _update(
        self,
        state: LockState,
        detail: str,
        *,
        keep: bool,
        condition: str,
        values: dict[str, Any],
    ) -> bool:
        now = int(self.clock.time())
        names = {"#state": "State", "#owner": "Owner", "#ttl": TTL_ATTRIBUTE}
        if keep:
            expression = "SET #state = :state, Detail = :detail, UpdatedAt = :now REMOVE #ttl"
        else:
            expression = "SET #state = :state, Detail = :detail, UpdatedAt = :now, #ttl = :ttl"
            values = {**values, ":ttl": {"N": str(now + COMPLETED_RETENTION_SECONDS)}}
        # DynamoDB rejects unused expression attribute names.
        used = {k: v for k, v in names.items() if k in expression or k in condition}
        try:
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key={KEY: {"S": self.lock_id}},
                UpdateExpression=expression,
                ConditionExpression=f"attribute_exists({KEY}) AND ({condition})",
                ExpressionAttributeNames=used,
                ExpressionAttributeValues={
                    **values,
                    ":state": {"S": state.value},
                    ":detail": {"S": detail[:1000]},
                    ":now": {"N": str(now)},
                },
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _utc(epoch: int | None) -> str:
    """An epoch second as ISO-8601 UTC, for humans."""
    if epoch is None:
        return "unknown"
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(item: dict[str, Any], name: str) -> int | None:
    value = item.get(name, {}).get("N")
    return int(float(value)) if value is not None else None


def _record(item: dict[str, Any]) -> LockRecord:
    updated_at = _number(item, "UpdatedAt")
    try:
        state = LockState(item.get("State", {}).get("S", ""))
    except ValueError:
        # An item someone edited by hand into an unknown state blocks like a failure, and
        # until it is cleared or forced (the table's condition knows no expiry for it).
        state, updated_at = LockState.FAILED, None
    return LockRecord(
        lock_id=item[KEY]["S"],
        state=state,
        owner=item.get("Owner", {}).get("S", ""),
        operation=item.get("Operation", {}).get("S", ""),
        target_region=item.get("TargetRegion", {}).get("S", ""),
        expires_at=_number(item, TTL_ATTRIBUTE),
        detail=item.get("Detail", {}).get("S", ""),
        updated_at=updated_at,
    )
