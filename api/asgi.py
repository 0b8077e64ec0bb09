"""The ASGI entry point for servers: ``granian --interface asgi api.asgi:app``.

``app`` is the whole served stack (api/app.py): the front cache, the edge, litestar.
"""

from api.app import create_app

__all__ = ["app"]

app = create_app()
