"""Peer watch Lambda: confirms, tick by tick, that the peer writer is lost before paging the
coordinator. Not VPC-attached: the SQL probe is the health checker's, invoked synchronously."""

# The function's service name in its logs and metrics: its package name.
SERVICE = "peer_watch"
