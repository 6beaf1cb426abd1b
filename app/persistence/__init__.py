"""SQLAlchemy Core tables, repository implementations and the unit of work."""
