"""`python -m drctl`: the operator command of aurora-dr (status, switchover, failover, failback,
unlock, drill). State changes go through the failover coordinator; see `cli.py`."""
