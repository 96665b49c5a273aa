"""The gateway's use cases: each write commits its audit row and catalog event with it."""
