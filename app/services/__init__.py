"""Use cases: one method per thing a caller can do. The only layer that opens and commits transactions."""
