"""Failover coordinator: decides and runs a switchover or an unplanned failover, with gates.

`handler.lambda_handler` is the entry point; `decision.decide` is the pure decision.
"""

# The function's service name in its logs, metrics and database sessions: its package name.
SERVICE = "failover_coordinator"
