"""Health checker Lambda: probes this region's and the peer region's cluster, publishes metrics."""
