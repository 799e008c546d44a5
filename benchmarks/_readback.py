"""Read-back of OCR lines with Tesseract: exact-match rate and character error rate (CER).

Each image goes to ``tesseract stdin stdout --psm 7`` (one text line), one process per image,
``OMP_THREAD_LIMIT=1`` so that parallel calls do not oversubscribe the cores. CER is the
Levenshtein distance between what Tesseract read (stripped) and the true text, over the true
text's length, averaged over lines; a line matches exactly when the two are equal.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from PIL import Image


def tesseract(image: Image.Image) -> str:
    """What Tesseract reads in one line image."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    result = subprocess.run(
        [shutil.which("tesseract") or "tesseract", "stdin", "stdout", "--psm", "7"],
        input=buffer.getvalue(),
        capture_output=True,
        check=True,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
    )
    return result.stdout.decode("utf-8", "replace").strip()


def distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def read_back(lines: Iterable[tuple[Image.Image, str]], workers: int) -> tuple[float, float, int]:
    """Exact-match rate, mean CER and the number of lines, Tesseract against the true texts."""
    pairs = list(lines)
    with ThreadPoolExecutor(max(1, workers)) as pool:
        read = list(pool.map(tesseract, [image for image, _ in pairs]))
    exact = sum(r == t for r, (_, t) in zip(read, pairs, strict=True))
    cer = sum(distance(r, t) / max(1, len(t)) for r, (_, t) in zip(read, pairs, strict=True))
    return exact / len(pairs), cer / len(pairs), len(pairs)
