"""Alembic migrations for every table of the product, from the first one on."""
