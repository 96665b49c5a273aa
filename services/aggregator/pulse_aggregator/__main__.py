"""`python -m pulse_aggregator` runs the aggregator service (or `migrate`)."""

from .app import main

main()
