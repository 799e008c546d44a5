"""Did-you-mean hints for misspelt names and for parameter names of numpy, scipy and sklearn."""

from __future__ import annotations

from collections.abc import Iterable

# closest and did_you_mean live at the package top so generators may use them too
from synthc.hints import closest, did_you_mean

__all__ = ["PARAMETER_ALIASES", "closest", "did_you_mean", "field_hint", "meant_field"]

#: Parameter names other libraries use -> ``(fields the model must have, hint)``, first match
#: wins. A hint applies only where the alias is not itself a field (lognormal has mu and sigma)
#: and the model has the fields it names, so ``scale`` maps to ``std`` for a normal column but
#: says what to write for a uniform one.
PARAMETER_ALIASES: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    "sd": ((("std",), "did you mean 'std'?"),),
    "stddev": ((("std",), "did you mean 'std'?"),),
    "stdev": ((("std",), "did you mean 'std'?"),),
    "sigma": ((("std",), "did you mean 'std'?"),),
    "mu": ((("mean",), "did you mean 'mean'?"),),
    "loc": (
        (("mean", "std"), "did you mean 'mean'? (scipy's loc of a normal is its mean)"),
        (
            ("low", "high"),
            "scipy's uniform(loc, scale) spans [loc, loc + scale): write low: <loc> and "
            "high: <loc + scale>",
        ),
    ),
    "scale": (
        (("mean", "std"), "did you mean 'std'? (scipy's scale of a normal is its std)"),
        (
            ("low", "high"),
            "scipy's uniform(loc, scale) spans [loc, loc + scale): write low: <loc> and "
            "high: <loc + scale>",
        ),
    ),
    "lambda": (
        (("lam",), "did you mean 'lam'? (numpy's name: lambda is a Python keyword)"),
        (("scale",), "write scale: <1 / lambda> (the mean; numpy's exponential takes scale)"),
    ),
    "lambda_": ((("lam",), "did you mean 'lam'?"),),
    "rate": ((("scale",), "write scale: <1 / rate> (the mean; numpy's exponential takes scale)"),),
    "n_samples": ((("samples",), "did you mean 'samples'? (sklearn's n_samples)"),),
    "n_features": ((("dim",), "did you mean 'dim'? (sklearn's n_features)"),),
}


def field_hint(word: object, fields: Iterable[str]) -> str:
    """The hint for an unknown field ``word`` of a model with ``fields``: another library's
    name for one of them (:data:`PARAMETER_ALIASES`), else the closest spelling."""
    allowed = set(fields)
    if isinstance(word, str) and word not in allowed:
        for needs, hint in PARAMETER_ALIASES.get(word.lower(), ()):
            if allowed.issuperset(needs):
                return f"; {hint}"
    return did_you_mean(word, sorted(allowed))


def meant_field(word: object, fields: Iterable[str]) -> str | None:
    """The field an unknown key ``word`` most likely stands for (by alias or spelling)."""
    if not isinstance(word, str):
        return None  # a key YAML read as a number, boolean or null names no field
    allowed = set(fields)
    for needs, _hint in PARAMETER_ALIASES.get(word.lower(), ()):
        if allowed.issuperset(needs):
            return needs[0] if len(needs) == 1 else None
    return closest(word, sorted(allowed))


def field_name(key: object) -> str:
    """An unknown field's key as a message names it: text quoted; a key YAML read as a number,
    boolean or null as YAML spells it, with what it read (``1:`` and ``"1":`` differ)."""
    if isinstance(key, str):
        return f"'{key}'"
    if isinstance(key, bool) or key is None:
        spelt, kind = ("null", "null") if key is None else (str(key).lower(), "a boolean")
    else:
        spelt, kind = str(key), "a number"
    return f"{spelt} (YAML read it as {kind}; a field's name is text)"
