"""The manifold generator: noisy points on swiss rolls, spheres, tori, helices, moons, blobs, ..."""

from synthc.generators.manifold.generator import GENERATOR

__all__ = ["GENERATOR"]
