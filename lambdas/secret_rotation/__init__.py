"""Secret rotation Lambda: Secrets Manager four-step rotation against the current global writer."""

# The function's service name in its logs, metrics and database sessions: its package name.
SERVICE = "secret_rotation"
