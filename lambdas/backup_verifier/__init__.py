"""Backup verifier: snapshot recency, cross-region copy and restore test of the current writer.

`handler.lambda_handler` is the entry point; `snapshots` holds the pure rules.
"""

# The function's service name in its logs, metrics and database sessions: its package name.
SERVICE = "backup_verifier"
