"""`python -m pulse_ingest` runs the ingest service (or `migrate`)."""

from .app import main

main()
