"""Database: models, engine, migrations and repositories (which never commit)."""
