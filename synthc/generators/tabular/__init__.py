"""Tabular samplers: distributions, a Gaussian copula, formula columns and labels."""

from synthc.generators.tabular.generator import GENERATOR

__all__ = ["GENERATOR"]
