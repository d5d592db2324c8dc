"""The two region roles and `Pair`: the program keeps every per-region result in one."""

from __future__ import annotations

import pytest

from stack.roles import DR, PRIMARY, ROLES, Pair, peer_role


def test_the_roles_are_primary_and_dr_and_each_is_the_others_peer():
    assert ROLES == ("primary", "dr")
    assert (peer_role(PRIMARY), peer_role(DR)) == (DR, PRIMARY)


def test_a_pair_answers_by_role_by_peer_and_iterates_primary_first():
    pair = Pair(primary="us-east-1", dr="us-west-2")
    assert (pair[PRIMARY], pair[DR]) == ("us-east-1", "us-west-2")
    assert (pair.peer_of(PRIMARY), pair.peer_of(DR)) == ("us-west-2", "us-east-1")
    assert list(pair) == ["us-east-1", "us-west-2"]
    assert list(pair.items()) == [(PRIMARY, "us-east-1"), (DR, "us-west-2")]


def test_map_builds_the_primary_value_first():
    # GIVEN a builder that records the order it is called in (declaration order is stable)
    built: list[str] = []

    def build(region: str) -> str:
        built.append(region)
        return region.upper()

    # THEN the primary value is built first, and each value lands under its own role
    assert Pair("a", "b").map(build) == Pair("A", "B")
    assert built == ["a", "b"]


@pytest.mark.parametrize("role", ["secondary", "requester", "accepter", "Primary"])
def test_any_other_role_name_is_refused(role):
    with pytest.raises(KeyError, match=f"not a region role: '{role}'"):
        Pair("a", "b")[role]  # type: ignore[index]
    with pytest.raises(KeyError, match="the roles are primary and dr"):
        peer_role(role)  # type: ignore[arg-type]
