"""The two region roles, `primary` and `dr`, and `Pair`: one value per role.

The roles are the stack's words for its regions *as configured*: `primary` is where the global
database is created with its writer, `dr` the region it fails over to. After a switchover the
writer may sit in `dr`; which region writes is runtime state, read from AWS, never from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final, Generic, Literal, TypeVar

Role = Literal["primary", "dr"]
PRIMARY: Final = "primary"
DR: Final = "dr"
ROLES: tuple[Role, Role] = (PRIMARY, DR)

T = TypeVar("T")
U = TypeVar("U")


def peer_role(role: Role) -> Role:
    """The other role: `primary` <-> `dr`."""
    if role == PRIMARY:
        return DR
    if role == DR:
        return PRIMARY
    raise KeyError(f"not a region role: {role!r} (the roles are {' and '.join(ROLES)})")


@dataclass(frozen=True)
class Pair(Generic[T]):
    """One value per region role: `pair.primary`, `pair.dr`, `pair[role]`, `pair.peer_of(role)`.

    Iteration yields the primary value first, then the DR value; `map` builds in that order too,
    so what the program declares per region is declared in the same order every run.
    """

    primary: T
    dr: T

    def __getitem__(self, role: Role) -> T:
        return self.dr if peer_role(role) == PRIMARY else self.primary

    def __iter__(self) -> Iterator[T]:
        yield self.primary
        yield self.dr

    def items(self) -> Iterator[tuple[Role, T]]:
        """`(role, value)` for both roles, primary first."""
        yield PRIMARY, self.primary
        yield DR, self.dr

    def peer_of(self, role: Role) -> T:
        """The value of the other role."""
        return self[peer_role(role)]

    def map(self, build: Callable[[T], U]) -> Pair[U]:
        """`Pair(build(primary), build(dr))`, built in that order."""
        first = build(self.primary)
        return Pair(first, build(self.dr))
