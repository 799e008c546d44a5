"""The (mean, std) each standardised column is rescaled by: closed form or pilot sample.

See tabular.standardize for the rule; this module finds the numbers for a config and seed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from synthc.errors import BuildError
from synthc.generators.tabular import scale_cache
from synthc.generators.tabular.config import TabularConfig
from synthc.generators.tabular.sampling import Scales, draw_columns
from synthc.generators.tabular.standardize import PILOT_ROWS, PILOT_STREAM, closed_form


@dataclass(frozen=True)
class Scale:
    """The mean and std a standardised column is rescaled by, and how they were found."""

    mean: float
    std: float
    method: str  # "closed form" | "pilot"

    def to_json(self) -> dict[str, float | str]:
        return {"mean": self.mean, "std": self.std, "method": self.method}


def scales(config: TabularConfig, seed: int) -> dict[str, Scale]:
    """The (mean, std) of every standardised column, in dependency order: closed forms, then
    one pilot sample for the rest (computed once per process, and kept on disk:
    tabular.scale_cache)."""
    wanted = [name for name in config.order() if config.columns[name].standardize]
    if not wanted:
        return {}
    key = (config.model_dump_json(), seed)
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    exact = {n: m for n in wanted if (m := closed_form(config.columns[n])) is not None}
    found: Scales = dict(exact)
    piloted = [name for name in wanted if name not in exact]
    if piloted:
        kept = scale_cache.read(key[0], seed, piloted)
        if kept is not None:
            found.update(kept)
        else:
            try:
                draw_columns(config, seed, 0, PILOT_ROWS, found, stream=PILOT_STREAM, learn=True)
            except BuildError as error:
                where = f"pilot sample of standardize ({PILOT_ROWS:,} rows)"
                raise BuildError(f"{where}: {error}") from None
            scale_cache.write(key[0], seed, {name: found[name] for name in piloted})
    result = {
        name: Scale(*found[name], "closed form" if name in exact else "pilot") for name in wanted
    }
    with _LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        _CACHE[key] = result
    return result


def as_tuples(found: dict[str, Scale]) -> Scales:
    """The (mean, std) pairs ``sample_shard`` takes."""
    return {name: (scale.mean, scale.std) for name, scale in found.items()}


_LOCK = threading.Lock()
_CACHE: dict[tuple[str, int], dict[str, Scale]] = {}
_CACHE_SIZE = 16
