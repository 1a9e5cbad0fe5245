"""Circles: membership, signed key records, epoch keys and their wraps."""
