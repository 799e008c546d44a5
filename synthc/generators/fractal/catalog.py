"""Class catalogs: systems read from a synthc catalog.json, FractalDB CSVs or .npy arrays."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np


def maps_to_json(maps: np.ndarray) -> list[list[list[float]]]:
    """Rows (a, b, c, d, e, f) as the label format [[a, b, e], [c, d, f]]."""
    return [[[r[0], r[1], r[4]], [r[2], r[3], r[5]]] for r in maps.tolist()]


def system_json(maps: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    """A system as catalog.json and the labels write it."""
    return {"maps": maps_to_json(maps), "probabilities": probabilities.tolist()}


def abs_dets(maps: np.ndarray) -> np.ndarray:
    """|det| of each map's linear part."""
    return np.abs(maps[:, 0] * maps[:, 3] - maps[:, 1] * maps[:, 2])


def det_probabilities(maps: np.ndarray) -> np.ndarray:
    """Map probabilities proportional to |det| of each linear part (FractalDB)."""
    dets = abs_dets(maps)
    return dets / dets.sum()


def load_catalog(path: Path) -> list[dict[str, Any]]:
    """Systems from a synthc catalog.json, FractalDB CSVs or .npy arrays (a file or a directory
    of files, one class each, in name order), as JSON-able dicts."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".csv", ".npy"))
        if not files:
            raise ValueError(f"{path}: no .csv or .npy files")
        return [_one_class(p) for p in files]
    if path.suffix == ".json":
        data = json.loads(path.read_text())
        classes = data["classes"] if isinstance(data, dict) else data
        return [{"maps": c["maps"], "probabilities": c["probabilities"]} for c in classes]
    return [_one_class(path)]


def _one_class(path: Path) -> dict[str, Any]:
    if path.suffix == ".npy":
        array = np.load(path, allow_pickle=False).astype(np.float64)
        if array.ndim != 3 or array.shape[1:] != (2, 3):
            raise ValueError(f"{path}: expected an n x 2 x 3 array, got {array.shape}")
        maps = np.column_stack(
            [
                array[:, 0, 0],
                array[:, 0, 1],
                array[:, 1, 0],
                array[:, 1, 1],
                array[:, 0, 2],
                array[:, 1, 2],
            ]
        )
        return system_json(maps, det_probabilities(maps))
    rows = []
    with open(path, newline="") as handle:
        for row in csv.reader(handle):
            values = [v.strip() for v in row if v.strip()]
            if not values:
                continue
            try:
                numbers = [float(v) for v in values]
            except ValueError:
                continue  # a header
            if len(numbers) != 7:
                raise ValueError(f"{path}: rows must be a,b,c,d,e,f,p; got {len(numbers)} values")
            rows.append(numbers)
    if not rows:
        raise ValueError(f"{path}: no maps")
    table = np.array(rows)
    probabilities = table[:, 6] / table[:, 6].sum()
    return system_json(table[:, :6], probabilities)
