"""The HTTP API (FastAPI): OGC API conventions over the store."""
