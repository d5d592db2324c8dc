"""Health checker Lambda: probes this region's and the peer region's cluster, publishes metrics;
answers single peer probes for the peer watch and the coordinator."""

# The function's service name in its logs, metrics and database sessions: its package name.
SERVICE = "health_checker"
