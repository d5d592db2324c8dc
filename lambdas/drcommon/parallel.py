"""Run independent reads at the same time, so a phase costs its slowest read, not their sum.

A decision that reads five things from two regions, one call after another, pays every timeout
of a black-holed region in turn. `gather` starts them together and collects each outcome (a
value or the exception it raised); nothing is cancelled half-way, because every call it runs is
bounded by its own client's timeouts. `timeout_seconds` is only a safety net for a task that
ignores its budget: such a task is reported as `TimeoutError` and left to finish in the
background.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Outcome:
    """What one task of a `gather` gave: its value, or the exception it raised."""

    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        """The task returned."""
        return self.error is None


def gather(tasks: Mapping[str, Callable[[], Any]], *, timeout_seconds: float) -> dict[str, Outcome]:
    """Run every task in its own thread and wait for all of them (at most `timeout_seconds` of
    real time for the lot); returns `{name: Outcome}` in the order of `tasks`."""
    if not tasks:
        return {}
    pool = ThreadPoolExecutor(max_workers=len(tasks), thread_name_prefix="gather")
    try:
        futures = {name: pool.submit(task) for name, task in tasks.items()}
        outcomes: dict[str, Outcome] = {}
        for name, future in futures.items():
            try:
                outcomes[name] = Outcome(value=future.result(timeout=timeout_seconds))
            except FutureTimeout:
                outcomes[name] = Outcome(
                    error=TimeoutError(f"{name} still running after {timeout_seconds:g} s")
                )
            except Exception as exc:
                outcomes[name] = Outcome(error=exc)
        return outcomes
    finally:
        # Never wait for a task past the safety net: its own socket timeouts end it later.
        pool.shutdown(wait=False, cancel_futures=True)
