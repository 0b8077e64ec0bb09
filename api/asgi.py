"""The ASGI entry point for servers: ``granian --interface asgi api.asgi:app``."""

from api.app import create_app

__all__ = ["app"]

app = create_app()
