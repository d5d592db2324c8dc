"""Backup verifier: snapshot recency, cross-region copy and restore test of the current writer.

`handler.lambda_handler` is the entry point; `snapshots` holds the pure rules.
"""
