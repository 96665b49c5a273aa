"""Shared runtime for Pulse services: settings, logging, database, outbox, inbox, broker, HTTP.

No business rules live here.
"""
