"""Metadata engine: YAML -> typed specs -> SQLAlchemy classes; runtime field changes."""
