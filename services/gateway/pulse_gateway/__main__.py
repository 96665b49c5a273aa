"""`python -m pulse_gateway` runs the gateway service (or `migrate`)."""

from .app import main

main()
