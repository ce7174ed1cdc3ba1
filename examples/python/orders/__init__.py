"""A small order service that pays through PayBridge (examples/README.md)."""
