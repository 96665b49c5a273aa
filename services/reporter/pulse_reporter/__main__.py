"""`python -m pulse_reporter` runs the report worker (or `migrate`)."""

from .app import main

main()
