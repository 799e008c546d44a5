"""fsspec's own configuration (``FSSPEC_<PROTOCOL>`` variables, ``FSSPEC_CONFIG_DIR``'s files)
checked before fsspec reads it: fsspec warns and ignores a variable that is no JSON object and
fails its own import on a file that is no JSON, which synthc would show as a library's warning
or an internal error. A problem is said naming the variable or file, never its value (it may
hold a key or a token)."""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import warnings
from pathlib import Path
from typing import Any

from synthc.errors import UsageError
from synthc.regular_files import InputError, read_regular

#: the largest fsspec configuration file synthc reads to check it
MAX_CONFIG_BYTES = 1 << 20


def check_fsspec_config(environ: dict[str, str] | None = None) -> None:
    """UsageError naming the first ``FSSPEC_<PROTOCOL>`` variable that is no JSON object, or
    the first configuration file fsspec would fail to read; then fsspec's configuration is
    loaded (its remaining warnings, about variable names it does not use, left unsaid)."""
    env = dict(os.environ if environ is None else environ)
    for name in sorted(env):
        if _protocol_variable(name) and not isinstance(_json_or_none(env[name]), dict):
            raise UsageError(
                f"{name}: not a JSON object (fsspec's options for {name[7:].lower()}://, "
                f'as in {name}=\'{{"option": "value"}}\'); its value is not shown; see '
                "docs/storage.md"
            )
    for protocol in ("s3", "s3a"):  # s3fs's botocore options, which synthc adds to
        name = f"FSSPEC_{protocol.upper()}"
        given = [
            (_json_or_none(env.get(name) or "{}") or {}).get("config_kwargs"),
            # fsspec keeps a value that is no JSON as text
            _json_or_none(env[f"{name}_CONFIG_KWARGS"]) or env[f"{name}_CONFIG_KWARGS"]
            if f"{name}_CONFIG_KWARGS" in env
            else None,
        ]
        for found in given:
            problem = config_kwargs_problem(protocol, found) if found is not None else None
            if problem is not None:
                raise UsageError(problem)
    folder = env.get("FSSPEC_CONFIG_DIR") or str(Path.home() / ".config" / "fsspec")
    for path in _config_files(Path(folder)):
        problem = _file_problem(path)
        if problem is not None:
            raise UsageError(
                f"{problem} (an fsspec configuration file, read for every store URL; its "
                "contents are not shown): fix or remove it"
            )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with contextlib.suppress(ImportError):  # said by the caller, naming what to install
            import fsspec.config  # noqa: F401 - reads the configuration once, here


def config_kwargs_problem(protocol: str, given: object) -> str | None:
    """Why ``given``, the ``config_kwargs`` fsspec's configuration holds for ``protocol``, is
    no options botocore can take (not a JSON object), naming where it may come from; or None."""
    if isinstance(given, dict):
        return None
    name = f"FSSPEC_{protocol.upper()}"
    return (
        f"fsspec's configuration for {protocol}:// ({name}, {name}_CONFIG_KWARGS or a file "
        "in FSSPEC_CONFIG_DIR): config_kwargs is not a JSON object, as in "
        '{"read_timeout": 60}; its value is not shown'
    )


def _protocol_variable(name: str) -> bool:
    """True for ``FSSPEC_<PROTOCOL>``, which fsspec reads as a JSON object of options."""
    return name.startswith("FSSPEC_") and len(name) > 7 and name[7] != "_" and name.count("_") == 1


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _config_files(folder: Path) -> list[Path]:
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [folder / name for name in names if name.endswith((".json", ".ini"))]


def _file_problem(path: Path) -> str | None:
    """Why fsspec cannot use the configuration file ``path``, or None."""
    try:
        data = read_regular(path, "fsspec configuration", str(path), limit=MAX_CONFIG_BYTES)
    except InputError as error:
        return str(error)
    text = data.decode("utf-8", "replace")
    if path.suffix == ".ini":
        try:
            configparser.ConfigParser().read_string(text)
        except configparser.Error:
            return f"{str(path)!r}: not an INI file fsspec can read"
        return None
    found = _json_or_none(text)
    if not isinstance(found, dict) or not all(isinstance(v, dict) for v in found.values()):
        return f'{str(path)!r}: not a JSON object of objects (as in {{"s3": {{...}}}})'
    return None
