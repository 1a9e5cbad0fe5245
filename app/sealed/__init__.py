"""Sealed warnings: opened to the admins only when k members name the same person."""
