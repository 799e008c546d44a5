"""synthc: a declarative synthetic-dataset compiler."""

from importlib import import_module
from typing import Any

#: synthc's installed version, read on first use (importlib.metadata costs a command that needs
#: no version, ``synthc validate``, about 0.025 s): see :func:`__getattr__`
__version__: str

#: Version of the bytes synthc writes for a given spec. Bump it whenever a change to synthc
#: changes shard bytes for an unchanged spec; it is part of every task key, so a bump rebuilds.
#: 2: fractal images keyed by (class, instance) rather than by sample index (datasets nest).
FORMAT_VERSION = 2

#: names loaded on first use (module, attribute), so ``import synthc`` stays light and this base
#: module imports nothing from the layers above it: ``synthc.stream(spec)`` makes samples on the
#: fly (synthc.streaming), ``synthc.open(DIR)`` reads a built dataset (synthc.outputs.dataset)
_LAZY = {
    "stream": ("synthc.streaming", "stream"),
    "open": ("synthc.outputs.dataset", "open_dataset"),
}

__all__ = ["FORMAT_VERSION", "__version__", "open", "stream"]  # noqa: F822 (lazy names)


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("synthc")
        except PackageNotFoundError:  # running from a source tree that was never installed
            found = "0.0.0+unknown"
        globals()["__version__"] = found
        return found
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(import_module(module), attribute)
    raise AttributeError(f"module 'synthc' has no attribute {name!r}")
