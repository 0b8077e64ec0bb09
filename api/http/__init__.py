"""The web layer: what only HTTP needs (problems, bodies, caching, parameters, guards, client
addresses, the edge of the ASGI stack, the OpenAPI document). Routes use it; the services and
the CLI never import it.
"""

__all__: list[str] = []
