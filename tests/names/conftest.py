"""The moderation desk (admins with a moderation key) for tests of what decisions change."""

from tests.moderation.conftest import desk, desk_without_key  # noqa: F401
