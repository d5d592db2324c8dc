"""`make mutate`'s score: what counts as killed, per module, from mutmut's `results` lines."""

from __future__ import annotations

from scripts.mutation_score import render, score_results

RESULTS = """\
    failover_coordinator.decision.x_decide__mutmut_1: killed
    failover_coordinator.decision.x_decide__mutmut_2: survived
    failover_coordinator.decision.x_decide__mutmut_3: timeout
    failover_coordinator.lock.xǁFailoverLockǁacquire__mutmut_1: killed
    failover_coordinator.lock.xǁFailoverLockǁacquire__mutmut_2: no tests
    failover_coordinator.lock.xǁFailoverLockǁacquire__mutmut_3: skipped
    config.x_parse_settings__mutmut_7: not checked
""".splitlines()


def test_timeouts_count_as_killed_and_survivors_and_untested_mutants_do_not():
    scores = score_results(RESULTS)

    decision = scores["failover_coordinator.decision"]
    assert (decision.killed, decision.total) == (2, 3)
    assert decision.not_killed == [("failover_coordinator.decision.x_decide__mutmut_2", "survived")]


def test_methods_are_scored_under_their_module_and_skipped_mutants_are_left_out():
    lock = score_results(RESULTS)["failover_coordinator.lock"]

    assert (lock.killed, lock.total) == (1, 2)
    assert lock.not_killed == [
        ("failover_coordinator.lock.xǁFailoverLockǁacquire__mutmut_2", "no tests")
    ]


def test_a_mutant_not_run_yet_is_counted_apart_and_left_out_of_the_percentage():
    config = score_results(RESULTS)["config"]

    assert (config.killed, config.total, config.not_run, config.percent) == (0, 0, 1, 100.0)
    assert config.not_killed == []


def test_lines_that_are_not_results_are_ignored():
    scores = score_results(["Warning: pyproject.toml changed", "", *RESULTS[:1]])

    assert list(scores) == ["failover_coordinator.decision"]


def test_the_table_gives_each_module_and_the_total_then_names_every_mutant_not_killed():
    table = render(score_results(RESULTS)).splitlines()

    assert [row.split() for row in table[1:5]] == [
        ["failover_coordinator.decision", "2", "3", "66.7%", "0"],
        ["failover_coordinator.lock", "1", "2", "50.0%", "0"],
        ["config", "0", "0", "-", "1"],
        ["all", "3", "5", "60.0%", "1"],
    ]
    assert any(row.startswith("1 mutants not run yet") for row in table)
    assert "  failover_coordinator.decision.x_decide__mutmut_3" in table
    assert table[-2:] == [
        "  failover_coordinator.decision.x_decide__mutmut_2: survived",
        "  failover_coordinator.lock.xǁFailoverLockǁacquire__mutmut_2: no tests",
    ]
