"""ingest's use cases, one module per kind of thing that happens: items arriving (receiving),
stored as samples with their post.pulled (samples), catalog events and fetch commands (catalog).
Callers name them through this package: `handlers.store_items`."""

from .catalog import enqueue_fetch, on_catalog_event
from .receiving import (
    ANSWERED,
    MISSING_KEY,
    UNAUTHORIZED,
    UNKNOWN_KEY,
    Delivery,
    Message,
    Received,
    authenticate,
    ingest_messages,
    receive_items,
    run_of,
)
from .samples import PRODUCER, UNKNOWN_POST, IngestResult, Source, store_batches, store_items

__all__ = [
    "ANSWERED",
    "MISSING_KEY",
    "PRODUCER",
    "UNAUTHORIZED",
    "UNKNOWN_KEY",
    "UNKNOWN_POST",
    "Delivery",
    "IngestResult",
    "Message",
    "Received",
    "Source",
    "authenticate",
    "enqueue_fetch",
    "ingest_messages",
    "on_catalog_event",
    "receive_items",
    "run_of",
    "store_batches",
    "store_items",
]
