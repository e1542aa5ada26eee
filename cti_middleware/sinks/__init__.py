"""Consumers of domain changes: sockets, screen pops, persistence, webhooks."""
