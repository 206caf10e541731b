"""Authentication: API keys (and optionally OIDC tokens) mapped to a tier."""
