"""OCR text lines on trdg's fonts and dictionaries, with exact text and character boxes."""

from synthc.generators.ocr.generator import GENERATOR

__all__ = ["GENERATOR"]
