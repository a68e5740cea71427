"""Project store: models, engine and migrations."""
