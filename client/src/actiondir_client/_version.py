"""The installed version, read from the package metadata (``client/pyproject.toml`` holds it)."""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("actiondir-client")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
