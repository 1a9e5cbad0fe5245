"""Warnings (entries) and corroborations: stored ciphertext, keyed name tokens, tombstones."""
