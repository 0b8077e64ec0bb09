"""Action Directory: a versioned JSON API of vetted ways to help, by country and topic."""

__all__ = ["__version__"]

__version__ = "0.1.0"
