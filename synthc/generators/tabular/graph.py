"""The true causal graph of a tabular spec: nodes, directed edges, coefficients.

Nodes, in the order the generator computes them (a topological order):

* ``column``: every column; ``truth`` and ``label``: ``<label>_true`` and ``<label>``;
* ``noise``: one per random term, ``noise:<name>``: a drawn column's own randomness (for a
  ``normal`` column a standard normal, scaled by ``std``), an ``expr`` column's ``noise`` draw, the
  label's draw or flip; deterministic columns (``sequence``, ``constant``, ``expr`` without
  ``noise``) have none;
* ``latent``: ``latent:copula``, the correlated normals of the Gaussian copula, a common cause
  of its members (which have no noise node of their own; the correlations: ``facts.copula``).

An edge ``source -> target`` says that ``source`` enters the formula (or draw) of ``target``.
``param`` names the formula: ``expr``, a parameter (``mean``, ``mu``, ``weights[i]``, ...),
``given``, ``formula`` (the label's), ``draw`` or ``noise`` (a noise term), ``copula``. ``term``
is the part of the formula that involves ``source``. ``coefficient`` is its coefficient when the
formula is affine in ``source``, else null. ``on`` is what the coefficient multiplies into:
``value`` when the formula adds to the stored value itself (``expr``, a normal's ``mean``, the
formula of a linear or threshold label), else the parameter (``mu``: the log-scale location of a
lognormal; ``logit``: the log-odds of a logistic label). ``weight`` is the effect of one unit of
the stored ``source`` on the stored ``target`` when it is linear (an ``on: value`` coefficient,
divided by the target's std when the target is standardised), else null: the weighted adjacency
matrix of a linear SCM.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from synthc.generators.tabular import columns as c
from synthc.generators.tabular import expr
from synthc.generators.tabular.config import TabularConfig
from synthc.generators.tabular.scales import Scale

#: the adjacency file written beside the manifest
GRAPH_FILE = "graph.csv"
#: the node of the copula's correlated normals
COPULA_NODE = "latent:copula"
#: its columns, in order
EDGE_FIELDS = ("source", "target", "param", "on", "term", "coefficient", "weight")
#: parameters whose formula adds to the value itself (value = parameter + centred noise)
_LOCATIONS = {("normal", "mean")}
#: what ``<label>_true`` is to ``<label>``
_LABEL_ON = {"linear": "value", "logistic": "probability", "threshold": "margin"}


def causal_graph(config: TabularConfig, scales: Mapping[str, Scale]) -> dict[str, Any]:
    """The graph as ``{"nodes": [...], "edges": [...]}``, deterministically ordered."""
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    copula = set(config.copula_columns())
    if copula:
        nodes.append({"id": COPULA_NODE, "kind": "latent", "of": sorted(copula)})
    for name in config.order():
        column = config.columns[name]
        scale = scales.get(name)
        divide = scale.std if scale is not None else 1.0
        noise = _noise_node(name, column, copula)
        if noise is not None:
            nodes.append(noise)
        node: dict[str, Any] = {"id": name, "kind": "column"}
        if scale is not None:
            node["standardize"] = scale.to_json()
        nodes.append(node)
        edges += _column_edges(name, column, divide)
        if name in copula:
            edges.append(_edge(COPULA_NODE, name, "copula", "copula", "correlated normals", None))
        elif noise is not None:
            param = "noise" if isinstance(column, c.Derived) else "draw"
            weight = _div(_noise_weight(column), divide)
            edges.append(_edge(noise["id"], name, param, "value", noise["draw"], None, weight))
    if config.label is not None:
        edges += _label(config, nodes)
    return {"nodes": nodes, "edges": edges}


def edge_list_csv(graph: Mapping[str, Any]) -> bytes:
    """The edges as CSV with the header :data:`EDGE_FIELDS`; null is an empty field."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EDGE_FIELDS)
    for edge in graph["edges"]:
        writer.writerow(["" if edge[k] is None else edge[k] for k in EDGE_FIELDS])
    return out.getvalue().encode()


def _column_edges(name: str, column: c.ColumnBase, divide: float) -> list[dict[str, Any]]:
    if isinstance(column, c.Derived):
        return _formula_edges(name, "expr", column.expr, "value", divide)
    edges: list[dict[str, Any]] = []
    given = getattr(column, "given", None)
    if given:
        edges.append(_edge(given, name, "given", "weights", given, None))
    dist = column.dist_name()
    for path, text in column.formula_paths().items():
        param = path[0] if len(path) == 1 else f"{path[0]}[{path[1]}]"
        on = "value" if (dist, param) in _LOCATIONS else str(param)
        edges += _formula_edges(name, str(param), text, on, divide)
    return edges


def _formula_edges(
    target: str, param: str, text: str, on: str, divide: float
) -> list[dict[str, Any]]:
    """One edge per column the formula reads, in order of first appearance."""
    node = expr.parse(text)
    _, terms = expr.affine(node)
    features = [(feature, coef, _names(feature)) for feature, coef in terms.items()]
    edges = []
    for parent in dict.fromkeys(ref.name for ref in expr.names(node)):
        mine = [(f, k) for f, k, names in features if parent in names]
        affine = len(mine) == 1 and mine[0][0] == parent
        coefficient = mine[0][1] if affine else None
        term = _terms(mine) or text
        weight = _div(coefficient, divide) if on == "value" else None
        edges.append(_edge(parent, target, param, on, term, coefficient, weight))
    return edges


def _label(config: TabularConfig, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    label = config.label
    assert label is not None
    truth = f"{label.name}_true"
    on = "logit" if label.kind == "logistic" else "value"
    edges = _formula_edges(truth, "formula", label.formula, on, 1.0)
    nodes.append({"id": truth, "kind": "truth"})
    edges.append(_edge(truth, label.name, "label", _LABEL_ON[label.kind], truth, None))
    if label.kind == "linear":
        edges[-1]["coefficient"] = edges[-1]["weight"] = 1.0
    random = label.kind == "logistic" or label.noise > 0
    if random:
        draw = {
            "logistic": f"bernoulli(p={truth})"
            + (f", flipped with probability {label.noise:g}" if label.noise else ""),
            "linear": f"normal(mean=0, std={label.noise:g})",
            "threshold": f"flip with probability {label.noise:g}",
        }[label.kind]
        noise = f"noise:{label.name}"
        nodes.append({"id": noise, "kind": "noise", "of": label.name, "draw": draw})
        weight = label.noise if label.kind == "linear" else None
        edges.append(_edge(noise, label.name, "draw", "value", draw, None, weight))
    nodes.append({"id": label.name, "kind": "label"})
    return edges


def _noise_node(name: str, column: c.ColumnBase, copula: set[str]) -> dict[str, Any] | None:
    if isinstance(column, c.Derived):
        if column.noise is None:
            return None
        draw = _describe(column.noise)
    elif isinstance(column, c.Sequence | c.Constant) or name in copula:
        return None
    elif isinstance(column, c.Normal):
        draw = "normal(mean=0, std=1)"
    else:
        draw = f"the {column.dist_name()} draw"
    return {"id": f"noise:{name}", "kind": "noise", "of": name, "draw": draw}


def _noise_weight(column: c.ColumnBase) -> float | None:
    """The noise node's weight on the raw value: 1 for an expr's additive noise, ``std`` for a
    normal column with a constant std; None where the noise does not add linearly."""
    if isinstance(column, c.Derived):
        return 1.0
    if isinstance(column, c.Normal) and not isinstance(column.std, str):
        return float(column.std)
    return None


def _describe(column: c.ColumnBase) -> str:
    inner = ", ".join(f"{k}={v:g}" for k, v in column.shown_params().items())
    return f"{column.dist_name()}({inner})"


def _names(feature: str) -> set[str]:
    return {ref.name for ref in expr.names(expr.parse(feature))}


def _terms(terms: list[tuple[str, float]]) -> str:
    """``[("a", 2.0), ("a * b", -1.0)]`` as ``2 * a - a * b``."""
    text = ""
    for feature, coefficient in terms:
        shown = feature if feature.isidentifier() else f"({feature})"
        size = abs(coefficient)
        number = repr(size).removesuffix(".0")  # shortest text that reads back exactly
        part = feature if size == 1 else f"{number} * {shown}"
        sign = "-" if coefficient < 0 else "+"
        text = f"{text} {sign} {part}" if text else (part if sign == "+" else f"-{part}")
    return text


def _div(value: float | None, divide: float) -> float | None:
    return None if value is None else value / divide


def _edge(
    source: str,
    target: str,
    param: str,
    on: str,
    term: str,
    coefficient: float | None,
    weight: float | None = None,
) -> dict[str, Any]:
    return {
        "source": source,
        "target": target,
        "param": param,
        "on": on,
        "term": term,
        "coefficient": coefficient,
        "weight": weight,
    }
