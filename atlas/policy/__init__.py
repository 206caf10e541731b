"""The tier policy: who sees which collection, field, row and geometry, enforced in one place."""
