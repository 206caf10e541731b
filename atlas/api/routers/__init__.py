"""API routers, one per OGC part or resource family."""
