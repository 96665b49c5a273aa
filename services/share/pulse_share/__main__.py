"""`python -m pulse_share` runs the share service (or `migrate`)."""

from .app import main

main()
