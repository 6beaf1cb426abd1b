"""After-sales workflow service."""
