"""IFS fractals rendered by the chaos game, with their exact systems as labels."""

from synthc.generators.fractal.generator import GENERATOR

__all__ = ["GENERATOR"]
