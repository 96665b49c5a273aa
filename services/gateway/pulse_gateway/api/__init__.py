"""The staff API: one router module per resource."""
