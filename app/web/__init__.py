"""The web edge: what requests may carry and how each transport answers."""
