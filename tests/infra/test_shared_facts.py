"""Facts the infrastructure and the Lambda code both need, but cannot import from one place
(the function packages import `drcommon` as the layer provides it, the Pulumi program does not
put them on its path). These tests keep the two copies equal."""

from __future__ import annotations

from decisions import functions


def test_lock_table_schema_is_what_the_coordinator_writes():
    from failover_coordinator import lock

    assert functions.LOCK_TABLE_HASH_KEY == lock.KEY
    assert functions.LOCK_TABLE_TTL_ATTRIBUTE == lock.TTL_ATTRIBUTE


def test_verifier_permissions_cover_what_the_verifier_creates_and_tags():
    from backup_verifier import settings, snapshots

    # IAM scopes restore/delete to `<prefix>-<env>-*` and to this tag: both must match the code.
    assert functions.VERIFY_RESOURCE_PREFIX == settings.DEFAULT_RESOURCE_PREFIX
    assert functions.VERIFY_PURPOSE_TAG == snapshots.PURPOSE_TAG
    assert functions.VERIFY_PURPOSE_VALUE == snapshots.PURPOSE
