"""The answers and requests of every `/internal/...` route (design/api.md, internal reads): one
module per serving service. The serving route declares them as its response_model or input
model, and the caller (the gateway's peer client, share, the reporter) parses the answer into
the same model, so the two sides cannot drift apart silently.

Answers (`Answer`) ignore keys they do not know, so a service may add a field before its
callers read it (deploy order never breaks a read); requests (`Request`) refuse unknown keys,
like every other contract.
"""

from .base import Answer, Request

__all__ = ["Answer", "Request"]
