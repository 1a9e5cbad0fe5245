"""Backchannel: an end-to-end encrypted whisper network."""
