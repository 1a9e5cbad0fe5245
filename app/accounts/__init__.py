"""Accounts, sessions and login throttling."""
