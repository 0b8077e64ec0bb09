"""Business rules over the store, shared by the web layer and the CLI.

Each service takes a ``Store`` (and the caller's identity or name), runs its writes in one
transaction with their audit record, and refuses with an ``api.errors.DomainError``. No HTTP
here: routes validate and encode, services decide.
"""

__all__: list[str] = []
