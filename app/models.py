"""Imports every domain's models so the metadata is complete (Alembic, tests)."""

from app.accounts import models as accounts_models
from app.db import Base

metadata = Base.metadata

__all__ = ["accounts_models", "metadata"]
