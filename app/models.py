"""Imports every domain's models so the metadata is complete (Alembic, tests)."""

from app.accounts import models as accounts_models
from app.anon import models as anon_models
from app.audit import models as audit_models
from app.circles import models as circles_models
from app.db import Base
from app.entries import models as entries_models
from app.invites import models as invites_models
from app.moderation import models as moderation_models
from app.sealed import models as sealed_models

metadata = Base.metadata

__all__ = [
    "accounts_models",
    "anon_models",
    "audit_models",
    "circles_models",
    "entries_models",
    "invites_models",
    "metadata",
    "moderation_models",
    "sealed_models",
]
