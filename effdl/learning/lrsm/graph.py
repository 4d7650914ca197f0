"""Graphs over strata: builders, validation of the prior weights W₀ and the edge-vector form the solver works on.

A graph over K strata is stored as :class:`StrataGraph`: the stratum keys in a fixed order (row ``k`` of ``theta_`` is
``keys[k]``), the candidate edges ``(i, j)`` with ``i < j`` and their prior weights ``w0`` (W₀ restricted to its
support). The dense symmetric matrix is ``W[i, j] = W[j, i] = w[e]``, zero elsewhere and on the diagonal; learning
the graph moves ``w`` and never leaves that support.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

__all__ = ["StrataGraph", "as_strata_graph", "cartesian_product", "laplacian", "path_graph"]


@dataclass(frozen=True)
class StrataGraph:
    """A weighted undirected graph over strata, in the edge-vector form.

    Attributes:
        keys: the K stratum keys (hashable: ints, strings, tuples), in row order.
        edges: (E, 2) int array of node indices, ``edges[e, 0] < edges[e, 1]``.
        w0: (E,) float64 prior weights W₀ on those edges, all ≥ 0 (an edge of weight 0 stays a candidate).
    """

    keys: tuple[Hashable, ...]
    edges: np.ndarray
    w0: np.ndarray

    @property
    def n_nodes(self) -> int:
        """K, the number of strata."""
        return len(self.keys)

    @property
    def index(self) -> dict[Hashable, int]:
        """Stratum key → row index."""
        return {k: i for i, k in enumerate(self.keys)}

    def dense(self, w: np.ndarray | None = None) -> np.ndarray:
        """The (K, K) symmetric weight matrix for edge weights ``w`` (E,), default W₀."""
        return edge_to_dense(self.keys, self.edges, self.w0 if w is None else w)


def edge_to_dense(keys: Sequence[Hashable], edges: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(K, K) symmetric matrix with ``W[i, j] = W[j, i] = w[e]`` for edge ``e = (i, j)``, zero elsewhere."""
    mat = np.zeros((len(keys), len(keys)))
    if len(edges):
        mat[edges[:, 0], edges[:, 1]] = w
        mat[edges[:, 1], edges[:, 0]] = w
    return mat


def laplacian(n_nodes: int, edges: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The (K, K) graph Laplacian L(W) = diag(W·1) − W for edge weights ``w`` (E,) on ``edges`` (E, 2)."""
    lap = np.zeros((n_nodes, n_nodes))
    if len(edges):
        i, j = edges[:, 0], edges[:, 1]
        np.add.at(lap, (i, j), -w)
        np.add.at(lap, (j, i), -w)
        np.add.at(lap, (i, i), w)
        np.add.at(lap, (j, j), w)
    return lap


def path_graph(keys: Iterable[Hashable], weight: float = 1.0) -> nx.Graph:
    """A path over ``keys`` in the given order (e.g. age bins), every edge of weight ``weight`` (≥ 0)."""
    keys = list(keys)
    weight = _check_weight(weight, "weight")
    if len(set(keys)) != len(keys):
        raise ValueError(f"keys must be distinct, got {keys!r}")
    g = nx.Graph()
    g.add_nodes_from(keys)
    g.add_edges_from(itertools.pairwise(keys), weight=weight)
    return g


def cartesian_product(g1: Any, g2: Any) -> nx.Graph:
    """The Cartesian product of two strata graphs: nodes ``(a, b)``; ``(a, b)–(a', b)`` keeps g1's weight of
    ``a–a'`` and ``(a, b)–(a, b')`` keeps g2's weight of ``b–b'`` (e.g. a sex graph × an age-bin path graph).

    Args:
        g1, g2: anything :func:`as_strata_graph` accepts (networkx graphs, edge dicts, edge lists).

    Returns:
        An undirected ``networkx.Graph`` built by ``networkx.cartesian_product``, every edge with a ``weight``.
    """
    n1, n2 = _to_nx(g1, "g1"), _to_nx(g2, "g2")
    return nx.cartesian_product(n1, n2)


def _check_weight(value: Any, name: str) -> float:
    try:
        w = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number ≥ 0, got {value!r}") from None
    if not np.isfinite(w) or w < 0:
        raise ValueError(f"{name} must be a finite number ≥ 0 (graph weights are non-negative), got {value!r}")
    return w


def _to_nx(graph: Any, name: str) -> nx.Graph:
    sg = as_strata_graph(graph, name=name)
    g = nx.Graph()
    g.add_nodes_from(sg.keys)
    for (i, j), w in zip(sg.edges, sg.w0, strict=True):
        g.add_edge(sg.keys[i], sg.keys[j], weight=float(w))
    return g


def _edge_items(graph: Any, name: str) -> tuple[list[Hashable], list[tuple[Hashable, Hashable, float]]]:
    """Nodes and directed (u, v, w) items of any accepted graph form, before symmetry checks."""
    if isinstance(graph, nx.MultiGraph | nx.MultiDiGraph):
        raise TypeError(f"{name} must be a simple graph, got a networkx multigraph")
    if isinstance(graph, nx.Graph):  # DiGraph is a subclass: its arcs are checked for symmetry below
        items = [(u, v, d.get("weight", 1.0)) for u, v, d in graph.edges(data=True)]
        return list(graph.nodes), items
    if isinstance(graph, Mapping):
        items = []
        for e, w in graph.items():
            if not (isinstance(e, tuple) and len(e) == 2):
                raise TypeError(f"{name} as a dict must map (u, v) edge pairs to weights, got key {e!r}")
            items.append((e[0], e[1], w))
    elif isinstance(graph, Iterable) and not isinstance(graph, str | bytes):
        items = []
        for e in graph:
            if not (isinstance(e, tuple | list) and len(e) in (2, 3)):
                raise TypeError(f"{name} as an edge list must hold (u, v) or (u, v, weight) tuples, got {e!r}")
            items.append((e[0], e[1], e[2] if len(e) == 3 else 1.0))
    else:
        raise TypeError(
            f"{name} must be a networkx Graph, a dict {{(u, v): weight}} or a list of (u, v[, weight]) edges, "
            f"got {type(graph).__name__}"
        )
    nodes: dict[Hashable, None] = {}
    for u, v, _ in items:
        nodes.setdefault(u)
        nodes.setdefault(v)
    return list(nodes), items


def as_strata_graph(graph: Any, *, name: str = "graph") -> StrataGraph:
    """Validate a graph over strata and return it in edge-vector form (:class:`StrataGraph`).

    Args:
        graph: a ``networkx.Graph`` (edge attribute ``"weight"``, default 1; a ``DiGraph`` must have both arcs of
            every edge with equal weights), a dict ``{(u, v): weight}`` or a list of ``(u, v)`` / ``(u, v, weight)``
            edges. Giving an edge in both directions is allowed if the weights agree. A
            :class:`StrataGraph` passes through.
        name: the argument's name for error messages.

    Raises:
        ValueError: W₀ is not symmetric (an arc with no reverse or a different reverse weight in a directed input),
            has a negative or non-finite weight, or a self-loop (W₀ must have a zero diagonal).
        TypeError: an unsupported input form.
    """
    if isinstance(graph, StrataGraph):
        return graph
    nodes, items = _edge_items(graph, name)
    directed = isinstance(graph, nx.DiGraph)
    weights: dict[tuple[Hashable, Hashable], float] = {}
    for u, v, w in items:
        if u == v:
            raise ValueError(f"{name} has a self-loop at {u!r}: W₀ must have a zero diagonal")
        w = _check_weight(w, f"{name} weight of edge {(u, v)!r}")
        if (u, v) in weights and weights[(u, v)] != w:
            raise ValueError(f"{name} gives edge {(u, v)!r} twice with different weights: W₀ must be symmetric")
        weights[(u, v)] = w
    index = {k: i for i, k in enumerate(nodes)}
    edges: dict[tuple[int, int], float] = {}
    for (u, v), w in weights.items():
        back = weights.get((v, u))
        if back is not None and back != w:
            raise ValueError(
                f"{name} is not symmetric: W₀[{u!r}, {v!r}] = {w} but W₀[{v!r}, {u!r}] = {back}; "
                "give equal weights both ways"
            )
        if directed and back is None:
            raise ValueError(f"{name} is not symmetric: arc {(u, v)!r} has no reverse arc {(v, u)!r}")
        i, j = sorted((index[u], index[v]))
        edges[(i, j)] = w
    pairs = sorted(edges)
    return StrataGraph(
        keys=tuple(nodes),
        edges=np.array(pairs, dtype=np.int64).reshape(-1, 2),
        w0=np.array([edges[p] for p in pairs], dtype=np.float64),
    )
