"""Test support shared by every suite: servers, databases, vhosts, running services."""
