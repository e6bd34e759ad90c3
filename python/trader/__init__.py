"""Trader Module sidecar: the parts of the Trader that the database cannot do itself."""
