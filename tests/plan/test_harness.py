"""The mock harness itself: what it changes in the Pulumi SDK for a run, it puts back."""

from __future__ import annotations

import pulumi.runtime.resource
import pytest

from drplan.harness import ProgramFailed, run_program


def test_a_run_puts_the_sdks_stack_walk_back_even_when_the_program_fails():
    # GIVEN the SDK's own stack walk, which the harness skips while a program registers
    walk = pulumi.runtime.resource._get_stack_trace

    # WHEN a run fails (a bad CIDR stops the program)
    with pytest.raises(ProgramFailed):
        run_program("dev", {"primaryVpcCidr": "10.0.0.0/33"})

    # THEN the walk is the SDK's again, for whatever runs the SDK next in this process
    assert pulumi.runtime.resource._get_stack_trace is walk
