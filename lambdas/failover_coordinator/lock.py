"""A DynamoDB lease lock so two invocations never run a failover twice.

Table (one per region, in the coordinator's own region, created by the stack):

* partition key `LockId` (String) - the global cluster identifier; no sort key;
* TTL attribute `ExpiresAt` (Number, epoch seconds).

Item states:

* `in_progress` - held by `Owner` (the Lambda request id) until `ExpiresAt`. A lease past its
  expiry is stale (the holder crashed or timed out) and may be taken over. The condition checks
  the expiry itself: DynamoDB's TTL deletion is lazy (up to days) and only tidies up.
* `completed`   - released after a confirmed role change; free to take. Kept for a week as a
  record, then TTL-deleted.
* `failed`      - an attempt failed mid-way (the API refused, or something broke after the
  lock was taken). Blocks every automatic retry, with no TTL, until an operator deletes the
  item (or sends a manual request with `force`). Re-running a failed failover blindly could
  fail over twice or fight an operator who is already repairing the cluster.
* `unconfirmed` - the operation was started but its end was not seen within the Lambda's time.
  Blocks like `failed`; the RDS completion/failure event for the global cluster resolves it to
  `completed`/`failed` when it arrives.

Operator clear: `aws dynamodb delete-item --table-name <table> --key '{"LockId":{"S":"<id>"}}'`.
"""

from __future__ import annotations

from dataclasses import dataclass
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

    def __init__(self, record: LockRecord | None) -> None:
        super().__init__(record.describe() if record else "lock is held")
        self.record = record

    @property
    def blocked_by_failure(self) -> bool:
        """True when an earlier attempt failed (operator attention needed)."""
        return self.record is not None and self.record.state in (
            LockState.FAILED,
            LockState.UNCONFIRMED,
        )


@dataclass
class FailoverLock:
    """The lock item for one global cluster in `table_name`, accessed with a DynamoDB client."""

    dynamodb: Any
    table_name: str
    lock_id: str
    clock: Clock
    lease_seconds: int

    def read(self) -> LockRecord | None:
        """The current item (strongly consistent), or None when there is none."""
        response = self.dynamodb.get_item(
            TableName=self.table_name, Key={KEY: {"S": self.lock_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return _record(item) if item else None

    def acquire(self, *, owner: str, operation: str, target_region: str, force: bool) -> None:
        """Take the lock for `owner`, or raise `LockUnavailable` with the current holder.

        Free when there is no item, the last attempt completed, or the lease is stale. `force`
        also takes over a `failed`/`unconfirmed` item, never a live lease: force is an operator
        overriding a judgement, not a way to run two failovers at once.
        """
        now = int(self.clock.time())
        condition = (
            f"attribute_not_exists({KEY}) OR #state = :completed "
            f"OR (#state = :in_progress AND {TTL_ATTRIBUTE} < :now)"
        )
        values: dict[str, Any] = {
            ":completed": {"S": LockState.COMPLETED.value},
            ":in_progress": {"S": LockState.IN_PROGRESS.value},
            ":now": {"N": str(now)},
        }
        if force:
            condition += " OR #state = :failed OR #state = :unconfirmed"
            values[":failed"] = {"S": LockState.FAILED.value}
            values[":unconfirmed"] = {"S": LockState.UNCONFIRMED.value}
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
            self.dynamodb.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#state": "State"},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise LockUnavailable(self.read()) from exc
            raise

    def complete(self, owner: str, detail: str) -> bool:
        """Release after a confirmed role change (kept as a record, TTL-deleted later)."""
        return self._finish(owner, LockState.COMPLETED, detail, keep=False)

    def fail(self, owner: str, detail: str) -> bool:
        """Record a failed attempt: blocks automatic retries until cleared."""
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


def _record(item: dict[str, Any]) -> LockRecord:
    expires = item.get(TTL_ATTRIBUTE, {}).get("N")
    try:
        state = LockState(item.get("State", {}).get("S", ""))
    except ValueError:
        # An item someone edited by hand into an unknown state blocks like a failure.
        state = LockState.FAILED
    return LockRecord(
        lock_id=item[KEY]["S"],
        state=state,
        owner=item.get("Owner", {}).get("S", ""),
        operation=item.get("Operation", {}).get("S", ""),
        target_region=item.get("TargetRegion", {}).get("S", ""),
        expires_at=int(float(expires)) if expires is not None else None,
        detail=item.get("Detail", {}).get("S", ""),
    )
