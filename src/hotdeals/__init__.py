"""Supermarket Hot Deals: rank a shop's deals with bandits and learn from every click."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hotdeals")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
