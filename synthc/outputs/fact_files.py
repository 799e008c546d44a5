"""Large facts go to ``.npy`` files beside the manifest; small ones stay inline as JSON."""

from __future__ import annotations

import hashlib
import io
from typing import TYPE_CHECKING, Any

from synthc import limits

if TYPE_CHECKING:
    import numpy as np

FACTS_DIR = "facts"
#: the keys of a manifest entry that stands for an array stored in a file
FACT_FILE_KEYS = ("file", "shape", "dtype", "sha256")


def split_facts(facts: dict[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Facts as written in the manifest, and the ``.npy`` files (name -> bytes) they refer to.

    An array (or rectangular list of numbers) of more than limits.MAX_INLINE_FACT_NUMBERS
    numbers becomes ``{"file", "shape", "dtype", "sha256"}`` pointing at ``facts/<key>.npy``;
    everything else is kept as it is.
    """
    files: dict[str, bytes] = {}
    return _walk(facts, (), files), files


def _walk(value: Any, keys: tuple[str, ...], files: dict[str, bytes]) -> Any:
    import numpy as np

    if isinstance(value, dict):
        return {k: _walk(v, (*keys, str(k)), files) for k, v in value.items()}
    array = _large_array(value)
    if array is None:
        return _plain(value)
    name = f"{FACTS_DIR}/{'.'.join(keys) or 'fact'}.npy"
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    data = buffer.getvalue()
    files[name] = data
    return {
        "file": name,
        "shape": list(array.shape),
        "dtype": array.dtype.str,
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def _plain(value: Any) -> Any:
    """``value`` with NumPy arrays and scalars (inside lists and tuples too) as Python values."""
    import numpy as np

    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def unrecordable_at(value: Any, path: str) -> tuple[str, str] | None:
    """The dotted path in facts as the manifest writes them to the first value JSON cannot
    hold (anything but None, bool, int, float, str, lists and dicts with text keys), with its
    type's name; None when there is none."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, dict):
            for key in item:
                if not isinstance(key, str):
                    return f"{at}[{key!r}]", f"key of type {type(key).__name__}"
            stack.extend((v, f"{at}.{k}") for k, v in reversed(item.items()))
        elif isinstance(item, list | tuple):
            stack.extend((v, f"{at}[{i}]") for i, v in reversed(list(enumerate(item))))
        elif item is not None and not isinstance(item, bool | int | float | str):
            return at, type(item).__name__
    return None


def _large_array(value: Any) -> np.ndarray | None:
    import numpy as np

    if isinstance(value, list):
        if _count_numbers(value, limits.MAX_INLINE_FACT_NUMBERS) <= limits.MAX_INLINE_FACT_NUMBERS:
            return None
        try:
            value = np.asarray(value)
        except ValueError:  # ragged
            return None
    if not isinstance(value, np.ndarray) or value.size <= limits.MAX_INLINE_FACT_NUMBERS:
        return None
    if value.dtype.kind not in "biuf":
        return None
    return np.ascontiguousarray(value)


def _count_numbers(value: list[Any], stop: int) -> int:
    # Lists within a small limit are counted, bigger ones only until the count passes it.
    count = 0
    stack = [value]
    while stack and count <= stop:
        items = stack.pop()
        for item in items:
            if isinstance(item, list):
                stack.append(item)
            elif isinstance(item, int | float) and not isinstance(item, bool):
                count += 1
            else:
                return 0  # not an array of numbers: keep it inline
    return count


def is_fact_file(value: Any) -> bool:
    """True if ``value`` is a manifest entry standing for an array in a ``.npy`` file."""
    return isinstance(value, dict) and set(value) == set(FACT_FILE_KEYS)


def fact_file_entries(facts: Any) -> list[dict[str, Any]]:
    """Every file entry in the facts of a manifest (which may be untrusted)."""
    found: list[dict[str, Any]] = []
    stack = [facts]
    while stack:
        value = stack.pop()
        if is_fact_file(value):
            found.append(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(v for v in value if isinstance(v, dict | list))
    return found
