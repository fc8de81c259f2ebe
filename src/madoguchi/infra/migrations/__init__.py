"""Alembic migrations of madoguchi's own tables (run them with `madoguchi db upgrade`)."""
