"""Numba kernels of the tabular generator: one sampler per distribution, quantiles for the copula.

Every kernel fills ``out`` for the global rows ``start .. start + n - 1``. A column draws from its
own Philox key (derived from the seed and the column name), so adding or removing a column never
changes another one. The counter is ``(row, block, stream)``: stream 0 holds a column's values,
streams 2 and 3 the two gamma variates of a beta, and ``block`` numbers successive attempts of a
rejection sampler.

Kernels run compiled or as plain Python (jit.plain_python) with the same results, so no math call
here may meet an argument where the two differ: Python's ``math`` raises where compiled code
returns inf or NaN (exp or lgamma overflowing, log of 0, sqrt of a negative, floor of inf).
Each call is either guarded (``_exp``, ``log(u)`` only for ``u > 0``) or has arguments that the
spec's bounds keep in range.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from synthc.generators.jit import Kernel, add64, ngjit
from synthc.generators.rng import normal2, normal3, philox4x32, uniform2
from synthc.generators.tabular.quantiles import (  # the codes :func:`quantile` inverts
    Q_BERNOULLI,
    Q_BINOMIAL,
    Q_EXPONENTIAL,
    Q_LOGNORMAL,
    Q_NORMAL,
    Q_POISSON,
    Q_UNIFORM,
)

# Stream ids and constant blocks are np.int64, not literals: Numba compiles an RNG kernel once
# more for each combination of literal arguments it is called with.
VALUES, MISSING, BETA_X, BETA_Y = (np.int64(k) for k in range(4))
_SQRT1_2 = 1.0 / math.sqrt(2.0)
_MAX_ATTEMPTS = 1 << 20  # rejection samplers accept within a few attempts; this is a backstop
#: the largest x whose exp(x) is a finite float64 (log of the largest float64, rounded down)
_EXP_MAX = 709.782712893384


@ngjit
def _exp(x: float) -> float:
    """exp(x), inf where it overflows: compiled exp gives inf there, Python's math.exp raises
    OverflowError, and kernels must give the same result either way (jit.plain_python)."""
    if x > _EXP_MAX:
        return math.inf
    return math.exp(x)


# -- continuous ------------------------------------------------------------------------------


@ngjit
def normal(start: int, k0: int, k1: int, mean: float, std: float, out: np.ndarray) -> None:
    """mean + std * Z."""
    for i in range(out.shape[0]):
        z, _ = normal2(start + i, np.int64(0), VALUES, k0, k1)
        out[i] = mean + std * z


@ngjit
def uniform(start: int, k0: int, k1: int, low: float, high: float, out: np.ndarray) -> None:
    """low + (high - low) * U, U in [0, 1)."""
    for i in range(out.shape[0]):
        u, _ = uniform2(start + i, np.int64(0), VALUES, k0, k1)
        out[i] = low + (high - low) * u


@ngjit
def lognormal(start: int, k0: int, k1: int, mu: float, sigma: float, out: np.ndarray) -> None:
    """exp(mu + sigma * Z)."""
    for i in range(out.shape[0]):
        z, _ = normal2(start + i, np.int64(0), VALUES, k0, k1)
        out[i] = _exp(mu + sigma * z)


@ngjit
def exponential(start: int, k0: int, k1: int, scale: float, out: np.ndarray) -> None:
    """-scale * log(1 - U)."""
    for i in range(out.shape[0]):
        u, _ = uniform2(start + i, np.int64(0), VALUES, k0, k1)
        out[i] = -scale * math.log1p(-u)


@ngjit
def _gamma1(row: int, stream: int, k0: int, k1: int, shape: float) -> float:
    """Gamma(shape, 1) by Marsaglia & Tsang (2000); shape < 1 via Gamma(shape + 1) * U^(1/shape)."""
    boost = 1.0
    a = shape
    if shape < 1.0:
        u, _ = uniform2(row, np.int64(0), stream + 16, k0, k1)
        boost = math.pow(u, 1.0 / shape) if u > 0.0 else 0.0
        a = shape + 1.0
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    for attempt in range(_MAX_ATTEMPTS):
        z, _ = normal2(row, 2 * attempt, stream, k0, k1)
        v = 1.0 + c * z
        if v <= 0.0:
            continue
        v = v * v * v
        u, _ = uniform2(row, 2 * attempt + 1, stream, k0, k1)
        if u < 1.0 - 0.0331 * z * z * z * z:
            return d * v * boost
        if u > 0.0 and math.log(u) < 0.5 * z * z + d * (1.0 - v + math.log(v)):
            return d * v * boost
    return d * boost


@ngjit
def gamma(start: int, k0: int, k1: int, shape: float, scale: float, out: np.ndarray) -> None:
    """Gamma(shape, scale)."""
    for i in range(out.shape[0]):
        out[i] = scale * _gamma1(start + i, VALUES, k0, k1, shape)


@ngjit
def beta(start: int, k0: int, k1: int, a: float, b: float, out: np.ndarray) -> None:
    """X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b)."""
    for i in range(out.shape[0]):
        x = _gamma1(start + i, BETA_X, k0, k1, a)
        y = _gamma1(start + i, BETA_Y, k0, k1, b)
        s = x + y
        out[i] = x / s if s > 0.0 else (1.0 if a > b else 0.0)


# -- discrete --------------------------------------------------------------------------------


@ngjit
def _poisson_inversion(lam: float, u: float) -> int:
    """The smallest k with P(X <= k) > u, for lam <= 700 (exp(-lam) stays normal)."""
    p = math.exp(-lam)
    cdf = p
    k = 0
    limit = 20.0 + lam + 30.0 * math.sqrt(lam)
    while u >= cdf and k < limit:
        k += 1
        p *= lam / k
        cdf += p
    return k


@ngjit
def _poisson_ptrs(row: int, k0: int, k1: int, lam: float) -> float:
    """Hormann's transformed rejection with squeeze (PTRS, 1993), for lam >= 10."""
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    for attempt in range(_MAX_ATTEMPTS):
        u, v = uniform2(row, attempt, VALUES, k0, k1)
        u -= 0.5
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43) if us > 0.0 else -1.0
        if us >= 0.07 and v <= vr:
            return k
        if k < 0.0 or (us < 0.013 and v > us):
            continue
        if v > 0.0 and (
            math.log(v) + math.log(inv_alpha) - math.log(a / (us * us) + b)
            <= -lam + k * loglam - math.lgamma(k + 1.0)
        ):
            return k
    return math.floor(lam)


@ngjit
def poisson(start: int, k0: int, k1: int, lam: float, out: np.ndarray) -> None:
    """Poisson(lam): inversion below lam = 10, PTRS above."""
    for i in range(out.shape[0]):
        if lam < 10.0:
            u, _ = uniform2(start + i, np.int64(0), VALUES, k0, k1)
            out[i] = _poisson_inversion(lam, u)
        else:
            out[i] = _poisson_ptrs(start + i, k0, k1, lam)


@ngjit
def _binomial_inversion(n: float, p: float, u: float) -> int:
    """The smallest k with P(X <= k) > u, for p <= 0.5 and q**n normal (n * p small)."""
    q = 1.0 - p
    pk = math.pow(q, n)
    cdf = pk
    k = 0
    ratio = p / q
    while u >= cdf and k < n:
        pk *= (n - k) / (k + 1.0) * ratio
        k += 1
        cdf += pk
    return k


@ngjit
def _binomial_btrs(row: int, k0: int, k1: int, n: float, p: float) -> float:
    """Hormann's BTRS (1993) for p <= 0.5 and n * p >= 10."""
    q = 1.0 - p
    spq = math.sqrt(n * p * q)
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    vr = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spq
    lpq = math.log(p / q)
    m = math.floor((n + 1) * p)
    h = math.lgamma(m + 1.0) + math.lgamma(n - m + 1.0)
    for attempt in range(_MAX_ATTEMPTS):
        u, v = uniform2(row, attempt, VALUES, k0, k1)
        u -= 0.5
        us = 0.5 - abs(u)
        if us <= 0.0:
            continue
        k = math.floor((2.0 * a / us + b) * u + c)
        if k < 0.0 or k > n:
            continue
        if us >= 0.07 and v <= vr:
            return k
        if v <= 0.0:
            continue
        v = math.log(v * alpha / (a / (us * us) + b))
        if v <= h - math.lgamma(k + 1.0) - math.lgamma(n - k + 1.0) + (k - m) * lpq:
            return k
    return m


@ngjit
def binomial(start: int, k0: int, k1: int, n: float, p: float, out: np.ndarray) -> None:
    """Binomial(n, p): inversion when n * min(p, 1 - p) < 10, BTRS otherwise."""
    flip = p > 0.5
    pp = 1.0 - p if flip else p
    for i in range(out.shape[0]):
        if pp == 0.0:
            k = 0.0
        elif n * pp < 10.0:
            u, _ = uniform2(start + i, np.int64(0), VALUES, k0, k1)
            k = float(_binomial_inversion(n, pp, u))
        else:
            k = _binomial_btrs(start + i, k0, k1, n, pp)
        out[i] = n - k if flip else k


@ngjit
def bernoulli(start: int, k0: int, k1: int, p: float, out: np.ndarray) -> None:
    """1 with probability p: U >= 1 - p, so a larger U never gives a smaller value."""
    for i in range(out.shape[0]):
        u, _ = uniform2(start + i, np.int64(0), VALUES, k0, k1)
        out[i] = 1.0 if u >= 1.0 - p else 0.0


@ngjit
def integers(start: int, k0: int, k1: int, low: int, span: int, out: np.ndarray) -> None:
    """low + floor(U * span) as int64: uniform on span <= 2**53 consecutive integers (each gets
    floor or ceil of 2**53 / span of the 2**53 values of U; wider spans: integers_wide)."""
    for i in range(out.shape[0]):
        u, _ = uniform2(start + i, np.int64(0), VALUES, k0, k1)
        k = np.int64(u * span)
        out[i] = low + (k if k < span else span - 1)


#: the widest span :func:`integers` draws from (a 53-bit U); wider ones use integers_wide
FLOAT_SPAN_MAX = 1 << 53
_U32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)


def _integers_wide_plain(start: int, k0: int, k1: int, low: int, top: int, out: np.ndarray) -> None:
    """:func:`integers_wide` in Python integers (NumPy's uint64 scalars refuse a negative low)."""
    mask = (1 << int(top).bit_length()) - 1
    for i in range(out.shape[0]):
        row = start + i
        attempt = 0
        while True:
            x0, x1, x2, x3 = (
                int(w) for w in philox4x32(row & 0xFFFFFFFF, row >> 32, attempt, VALUES, k0, k1)
            )
            r = ((x0 << 32) | x1) & mask
            if r > top:
                r = ((x2 << 32) | x3) & mask
            if r <= top:
                break
            attempt += 1
        out[i] = low + r


@functools.partial(Kernel, plain=_integers_wide_plain)
def integers_wide(start: int, k0: int, k1: int, low: int, top: int, out: np.ndarray) -> None:
    """low + R, R uniform on 0 .. top exactly, for spans over 2**53 (top < 2**64): the two
    64-bit words of Philox at ``(row, attempt)`` masked to top's bit length, the first one not
    above top (each is accepted with probability over 1/2)."""
    t = np.uint64(top)
    mask = t
    for shift in (1, 2, 4, 8, 16, 32):
        mask |= mask >> np.uint64(shift)
    base = np.uint64(low)
    for i in range(out.shape[0]):
        row = np.uint64(start + i)
        attempt = 0
        while True:
            x0, x1, x2, x3 = philox4x32(
                np.uint32(row & _LOW32), np.uint32(row >> _U32), attempt, VALUES, k0, k1
            )
            r = ((np.uint64(x0) << _U32) | np.uint64(x1)) & mask
            if r > t:
                r = ((np.uint64(x2) << _U32) | np.uint64(x3)) & mask
            if r <= t:
                break
            attempt += 1
        out[i] = np.int64(add64(base, r))


@ngjit
def categorical(
    start: int, k0: int, k1: int, cumulative: np.ndarray, parent: np.ndarray, out: np.ndarray
) -> None:
    """Codes by inverse CDF on ``cumulative[row]`` (row = the parent's code, or 0)."""
    m = cumulative.shape[1]
    conditional = parent.shape[0] > 0
    for i in range(out.shape[0]):
        u, _ = uniform2(start + i, np.int64(0), VALUES, k0, k1)
        row = parent[i] if conditional else 0
        target = u * cumulative[row, m - 1]
        k = 0
        while k < m - 1 and cumulative[row, k] <= target:
            k += 1
        out[i] = k


@ngjit
def missing_mask(start: int, k0: int, k1: int, rate: float, out: np.ndarray) -> None:
    """True where the value is dropped: U < rate, from the column's missing stream."""
    for i in range(out.shape[0]):
        u, _ = uniform2(start + i, np.int64(0), MISSING, k0, k1)
        out[i] = u < rate


# -- parameters per row (structural equations) -----------------------------------------------
# The same draws as the samplers above, from the same counters, with one value per row for
# each parameter: a constant parameter broadcast gives the same values as the scalar kernel.


@ngjit
def normal_rows(
    start: int, k0: int, k1: int, mean: np.ndarray, std: np.ndarray, out: np.ndarray
) -> None:
    """mean[i] + std[i] * Z."""
    for i in range(out.shape[0]):
        z, _ = normal2(start + i, np.int64(0), VALUES, k0, k1)
        out[i] = mean[i] + std[i] * z


@ngjit
def uniform_rows(
    start: int, k0: int, k1: int, low: np.ndarray, high: np.ndarray, out: np.ndarray
) -> None:
    """low[i] + (high[i] - low[i]) * U."""
    for i in range(out.shape[0]):
        u, _ = uniform2(start + i, np.int64(0), VALUES, k0, k1)
        out[i] = low[i] + (high[i] - low[i]) * u


@ngjit
def lognormal_rows(
    start: int, k0: int, k1: int, mu: np.ndarray, sigma: np.ndarray, out: np.ndarray
) -> None:
    """exp(mu[i] + sigma[i] * Z)."""
    for i in range(out.shape[0]):
        z, _ = normal2(start + i, np.int64(0), VALUES, k0, k1)
        out[i] = _exp(mu[i] + sigma[i] * z)


@ngjit
def exponential_rows(start: int, k0: int, k1: int, scale: np.ndarray, out: np.ndarray) -> None:
    """-scale[i] * log(1 - U)."""
    for i in range(out.shape[0]):
        u, _ = uniform2(start + i, np.int64(0), VALUES, k0, k1)
        out[i] = -scale[i] * math.log1p(-u)


@ngjit
def poisson_rows(start: int, k0: int, k1: int, lam: np.ndarray, out: np.ndarray) -> None:
    """Poisson(lam[i]): inversion below 10, PTRS above."""
    for i in range(out.shape[0]):
        if lam[i] < 10.0:
            u, _ = uniform2(start + i, np.int64(0), VALUES, k0, k1)
            out[i] = _poisson_inversion(lam[i], u)
        else:
            out[i] = _poisson_ptrs(start + i, k0, k1, lam[i])


@ngjit
def bernoulli_rows(start: int, k0: int, k1: int, p: np.ndarray, out: np.ndarray) -> None:
    """1 where U >= 1 - p[i]."""
    for i in range(out.shape[0]):
        u, _ = uniform2(start + i, np.int64(0), VALUES, k0, k1)
        out[i] = 1.0 if u >= 1.0 - p[i] else 0.0


# -- labels ---------------------------------------------------------------------------------


@ngjit
def logistic_label(
    start: int,
    k0: int,
    k1: int,
    eta: np.ndarray,
    flip: float,
    label: np.ndarray,
    probability: np.ndarray,
) -> None:
    """probability = 1 / (1 + exp(-eta)); label ~ Bernoulli(probability), then flipped with
    probability ``flip``. The caller refuses a NaN eta (sampling._check_label)."""
    for i in range(eta.shape[0]):
        e = eta[i]
        if e >= 0.0:
            p = 1.0 / (1.0 + math.exp(-e))
        else:
            t = math.exp(e)
            p = t / (1.0 + t)
        probability[i] = p
        u, v = uniform2(start + i, np.int64(0), VALUES, k0, k1)
        y = 1 if u < p else 0
        label[i] = 1 - y if v < flip else y


@ngjit
def threshold_label(
    start: int, k0: int, k1: int, eta: np.ndarray, flip: float, label: np.ndarray
) -> None:
    """label = 1 where eta > 0, then flipped with probability ``flip``."""
    for i in range(eta.shape[0]):
        y = 1 if eta[i] > 0.0 else 0
        _, v = uniform2(start + i, np.int64(0), VALUES, k0, k1)
        label[i] = 1 - y if v < flip else y


@ngjit
def linear_label(
    start: int, k0: int, k1: int, eta: np.ndarray, std: float, out: np.ndarray
) -> None:
    """out = eta + std * Z."""
    for i in range(eta.shape[0]):
        z, _ = normal2(start + i, np.int64(0), VALUES, k0, k1)
        out[i] = eta[i] + std * z


# -- copula ----------------------------------------------------------------------------------


@ngjit
def correlated_normals(start: int, k0: int, k1: int, lower: np.ndarray, out: np.ndarray) -> None:
    """out[:, i] = lower @ g with g ~ N(0, I) from the copula's own key."""
    k = lower.shape[0]
    g = np.empty(k, dtype=np.float64)
    for i in range(out.shape[1]):
        for j in range(0, k, 3):
            z0, z1, z2 = normal3(start + i, j // 3, VALUES, k0, k1)
            g[j] = z0
            if j + 1 < k:
                g[j + 1] = z1
            if j + 2 < k:
                g[j + 2] = z2
        for r in range(k):
            s = 0.0
            for c in range(r + 1):
                s += lower[r, c] * g[c]
            out[r, i] = s


@ngjit
def phi_upper(z: float) -> float:
    """P(Z > z), accurate in both tails."""
    return 0.5 * math.erfc(z * _SQRT1_2)


@ngjit
def quantile(code: int, params: np.ndarray, z: np.ndarray, out: np.ndarray) -> None:
    """Marginal quantiles of standard normals ``z``: out = F^-1(Phi(z)) for distribution ``code``.

    Codes (the ``Q_*`` constants): normal(mean, std), uniform(low, high), lognormal(mu, sigma),
    exponential(scale), poisson(lam), binomial(n, p), bernoulli(p), and uniform integer
    (low, span), floored.
    """
    for i in range(z.shape[0]):
        x = z[i]
        if code == Q_NORMAL:
            out[i] = params[0] + params[1] * x
        elif code == Q_LOGNORMAL:
            out[i] = _exp(params[0] + params[1] * x)
        elif code == Q_EXPONENTIAL:
            # -log(1 - Phi(x)) from the upper tail directly, so large x keeps its precision.
            out[i] = -params[0] * math.log(max(phi_upper(x), 5e-324))
        else:
            u = 0.5 * math.erfc(-x * _SQRT1_2)  # Phi(x)
            if code == Q_UNIFORM:
                out[i] = params[0] + (params[1] - params[0]) * u
            elif code == Q_POISSON:
                out[i] = _poisson_inversion(params[0], u)
            elif code == Q_BINOMIAL:
                n, p = params[0], params[1]
                if p <= 0.5:
                    out[i] = _binomial_inversion(n, p, u)
                else:  # X = n - Y, Y ~ Binomial(n, 1 - p): the smallest k with F_X(k) >= u
                    out[i] = n - _binomial_inversion(n, 1.0 - p, 1.0 - u)
            elif code == Q_BERNOULLI:
                out[i] = 1.0 if u >= 1.0 - params[0] else 0.0
            else:
                k = math.floor(u * params[1])
                out[i] = params[0] + (k if k < params[1] else params[1] - 1.0)
