"""Load benchmarks: the real service against a bare FastAPI + PostgreSQL floor, on a throwaway database."""
