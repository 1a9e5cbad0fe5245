"""Invites: hashed secrets, expiry, use limits, redemption into a pending membership."""
