"""`python -m pulse_alerter` runs the alerter service (or `migrate`)."""

from .app import main

main()
