"""Connection drainer Lambda: terminates application sessions on a (demoted) cluster."""

# The function's service name in its logs, metrics and database sessions: its package name.
SERVICE = "connection_drainer"
