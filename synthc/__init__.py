"""synthc: a declarative synthetic-dataset compiler."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("synthc")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

#: Version of the bytes synthc writes for a given spec. Bump it whenever a change to synthc
#: changes shard bytes for an unchanged spec; it is part of every task key, so a bump rebuilds.
FORMAT_VERSION = 1

__all__ = ["FORMAT_VERSION", "__version__"]
