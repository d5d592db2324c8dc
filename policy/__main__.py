"""The aurora-dr CrossGuard policy pack: `pulumi preview --policy-pack policy`.

The policies live in `aurora_dr_policies.py`, so tests import them without starting the pack's
analyzer (building a `PolicyPack` serves it to the Pulumi engine).
"""

from aurora_dr_policies import POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name="aurora-dr",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
)
