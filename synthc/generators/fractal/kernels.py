"""Numba kernels of the fractal generator: the fused chaos-game renderer, the occupancy probe of
the class search, and plasma backgrounds.

A system is ``m`` rows of ``(a, b, c, d, e, f)``: ``x' = a x + b y + e``, ``y' = c x + d y + f``,
with cumulative 32-bit thresholds for choosing a map. Each draw's orbit is driven by SplitMix64
seeded from Philox at the draw's own counter ``(image id, draw, CHAOS)`` (the image id packs the
image's class and instance, ``draw`` numbers the fractals of one image), so it is a pure function
of that counter; SplitMix64 (Steele et al., 2014) gives two 32-bit map choices per step at a
fraction of Philox's cost, and the choice is made without branches (the map index is the count
of thresholds the word reaches), which keeps the loop free of mispredictions.
"""

from __future__ import annotations

import math

import numpy as np

from synthc.generators.jit import add64, mul64, ngjit
from synthc.generators.rng import philox4x32, uniform2

BURN_IN = 20
PROBE = 2048
#: the window keeps the central 99.6% of the probe points on each axis (stray points fall out)
WINDOW_QUANTILE = 0.002
WINDOW_MARGIN = 0.04
CHAOS, BACKGROUND = 0, 2  # Philox streams of orbits and of plasma backgrounds
# A constant argument is typed as a literal, and Numba compiles a kernel once more for each
# literal it is called with; kernels shared by render, occupancy and plasma are called with
# np.int64 values instead, so that a build compiles each of them once.
MODE_BINARY, MODE_DENSITY, MODE_PATCH = 0, 1, 2
_M32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_INV_2_53 = 1.0 / 9007199254740992.0


@ngjit
def _choose(word: np.uint64, cum: np.ndarray, start: int, m: int) -> int:
    """The row of the map chosen by a 32-bit ``word``: how many thresholds it reaches."""
    j = start
    for q in range(m - 1):
        j += word >= cum[start + q]
    return j


@ngjit
def _seed(index: int, block: int, k0: int, k1: int) -> np.uint64:
    i = np.uint64(index)
    w = philox4x32(np.uint32(i & _M32), np.uint32(i >> _S32), block, np.int64(CHAOS), k0, k1)
    return (np.uint64(w[0]) << _S32) | np.uint64(w[1])


@ngjit
def _next(state: np.uint64) -> tuple[np.uint64, np.uint64]:
    """One SplitMix64 step: (new state, 64 random bits)."""
    state = add64(state, _GOLDEN)
    z = state
    z = mul64(z ^ (z >> np.uint64(30)), _MIX1)
    z = mul64(z ^ (z >> np.uint64(27)), _MIX2)
    return state, z ^ (z >> np.uint64(31))


@ngjit
def _step(maps: np.ndarray, j: int, x: float, y: float) -> tuple[float, float]:
    return (
        maps[j, 0] * x + maps[j, 1] * y + maps[j, 4],
        maps[j, 2] * x + maps[j, 3] * y + maps[j, 5],
    )


@ngjit
def cumulative_thresholds(probabilities: np.ndarray) -> np.ndarray:
    """Cumulative map probabilities as uint32 thresholds (the last one implicit)."""
    m = probabilities.shape[0]
    out = np.empty(m, dtype=np.uint64)
    total = 0.0
    for j in range(m):
        total += probabilities[j]
        out[j] = np.uint64(min(total, 1.0) * 4294967295.0)
    return out


@ngjit
def _kth(values: np.ndarray, k: int) -> float:
    """The ``k``-th smallest of ``values`` (finite floats), which it reorders in place (Hoare's
    selection, as Wirth writes it): linear time on average, and cheap to compile."""
    lo = 0
    hi = values.shape[0] - 1
    while lo < hi:
        pivot = values[k]
        i = lo
        j = hi
        while i <= j:
            while values[i] < pivot:
                i += 1
            while pivot < values[j]:
                j -= 1
            if i <= j:
                values[i], values[j] = values[j], values[i]
                i += 1
                j -= 1
        if j < k:
            lo = i
        if k < i:
            hi = j
    return values[k]


@ngjit
def _probe_window(
    maps: np.ndarray,
    cum: np.ndarray,
    start: int,
    m: int,
    state: np.uint64,
    xs: np.ndarray,
    ys: np.ndarray,
) -> tuple[float, float, np.uint64, float, float, float]:
    """Burn in, record PROBE points; return (x, y, state, x0, y0, side), side <= 0 if broken."""
    x = 0.0
    y = 0.0
    for count in range(0, BURN_IN + PROBE, 2):
        state, z = _next(state)
        for word in (z & _M32, z >> _S32):
            j = _choose(word, cum, start, m)
            x, y = _step(maps, j, x, y)
            if count >= BURN_IN:
                xs[count - BURN_IN] = x
                ys[count - BURN_IN] = y
            count += 1
    for q in range(PROBE):
        if not (math.isfinite(xs[q]) and math.isfinite(ys[q])):
            return x, y, state, 0.0, 0.0, -1.0
    lo = int(WINDOW_QUANTILE * PROBE)
    hi = PROBE - 1 - lo
    # the two quantiles by selection in place (np.partition's would take seconds to compile)
    x_lo = _kth(xs, lo)
    x_hi = _kth(xs, hi)
    y_lo = _kth(ys, lo)
    y_hi = _kth(ys, hi)
    cx = 0.5 * (x_lo + x_hi)
    cy = 0.5 * (y_lo + y_hi)
    side = max(x_hi - x_lo, y_hi - y_lo) * (1.0 + 2.0 * WINDOW_MARGIN)
    if not side > 1e-12:
        return x, y, state, 0.0, 0.0, -1.0
    return x, y, state, cx - 0.5 * side, cy - 0.5 * side, side


def render(
    draw_image: np.ndarray,  # (D,) int64: which image each draw goes into
    draw_index: np.ndarray,  # (D,) int64: the draw's image id (its class and instance)
    draw_block: np.ndarray,  # (D,) int64: the draw's number k within its image
    map_start: np.ndarray,  # (D + 1,) int64: rows of ``maps`` per draw
    maps: np.ndarray,  # (M, 6) float64
    cum: np.ndarray,  # (M,) uint64 cumulative thresholds
    map_color: np.ndarray,  # (M, 3) uint8: colour of each map's points (RGB images)
    boxes: np.ndarray,  # (D, 4) int64: target box x0, y0, x1, y1 in pixels (x1, y1 exclusive)
    flips: np.ndarray,  # (D,) bool: mirror left-right inside the box
    patches: np.ndarray,  # (D, 3, 3) float64: patch mode stamps
    mode: int,
    points: int,
    k0: int,
    k1: int,
    images: np.ndarray,  # (N, H, W, C) uint8, background already drawn
    windows: np.ndarray,  # (D, 3) float64 out: x0, y0, side of the view window; side -1 if bad
) -> None:
    """Render every draw: chaos game and splatting fused, no per-draw coordinate array.

    Binary grayscale images (white points straight into the image) and the other modes are two
    kernels, so that a build compiles only the one its spec's mode needs."""
    if _points_only(mode, images.shape[3]):
        _render_points(
            draw_image,
            draw_index,
            draw_block,
            map_start,
            maps,
            cum,
            boxes,
            flips,
            points,
            k0,
            k1,
            images,
            windows,
        )
    else:
        _render_general(
            draw_image,
            draw_index,
            draw_block,
            map_start,
            maps,
            cum,
            map_color,
            boxes,
            flips,
            patches,
            mode,
            points,
            k0,
            k1,
            images,
            windows,
        )


def _points_only(mode: int, channels: int) -> bool:
    """Whether :func:`render` draws with ``_render_points`` (else ``_render_general``)."""
    return mode == MODE_BINARY and channels == 1


@ngjit
def _draw_window(
    d: int,
    draw_index: np.ndarray,
    draw_block: np.ndarray,
    map_start: np.ndarray,
    maps: np.ndarray,
    cum: np.ndarray,
    k0: int,
    k1: int,
    xs: np.ndarray,
    ys: np.ndarray,
    windows: np.ndarray,
) -> tuple[int, int, float, float, np.uint64, float, float, float]:
    """Draw ``d``'s probe: (map start, map count, x, y, state, window x0, y0, side), the window
    also written to ``windows[d]``; side <= 0 if the orbit is broken."""
    start = map_start[d]
    m = map_start[d + 1] - start
    seed = _seed(draw_index[d], draw_block[d], k0, k1)
    x, y, state, wx, wy, side = _probe_window(maps, cum, start, m, seed, xs, ys)
    windows[d, 0] = wx
    windows[d, 1] = wy
    windows[d, 2] = side
    return start, m, x, y, state, wx, wy, side


@ngjit
def _render_points(
    draw_image: np.ndarray,
    draw_index: np.ndarray,
    draw_block: np.ndarray,
    map_start: np.ndarray,
    maps: np.ndarray,
    cum: np.ndarray,
    boxes: np.ndarray,
    flips: np.ndarray,
    points: int,
    k0: int,
    k1: int,
    images: np.ndarray,
    windows: np.ndarray,
) -> None:
    """:func:`render` of binary grayscale images."""
    xs = np.empty(PROBE, dtype=np.float64)
    ys = np.empty(PROBE, dtype=np.float64)
    for d in range(draw_image.shape[0]):
        start, m, x, y, state, wx, wy, side = _draw_window(
            d, draw_index, draw_block, map_start, maps, cum, k0, k1, xs, ys, windows
        )
        if side <= 0.0:
            continue
        n = draw_image[d]
        bx0, by0, bx1, by1 = boxes[d, 0], boxes[d, 1], boxes[d, 2], boxes[d, 3]
        sx = (bx1 - bx0) / side
        sy = (by1 - by0) / side
        target = images[n, by0:by1, bx0:bx1, 0]
        _orbit_hits(maps, cum, start, m, state, x, y, points, wx, wy, sx, sy, flips[d], target)


@ngjit
def _render_general(
    draw_image: np.ndarray,
    draw_index: np.ndarray,
    draw_block: np.ndarray,
    map_start: np.ndarray,
    maps: np.ndarray,
    cum: np.ndarray,
    map_color: np.ndarray,
    boxes: np.ndarray,
    flips: np.ndarray,
    patches: np.ndarray,
    mode: int,
    points: int,
    k0: int,
    k1: int,
    images: np.ndarray,
    windows: np.ndarray,
) -> None:
    """:func:`render` of density and patch modes, and of colour images."""
    channels = images.shape[3]
    xs = np.empty(PROBE, dtype=np.float64)
    ys = np.empty(PROBE, dtype=np.float64)
    for d in range(draw_image.shape[0]):
        start, m, x, y, state, wx, wy, side = _draw_window(
            d, draw_index, draw_block, map_start, maps, cum, k0, k1, xs, ys, windows
        )
        if side <= 0.0:
            continue
        n = draw_image[d]
        bx0, by0, bx1, by1 = boxes[d, 0], boxes[d, 1], boxes[d, 2], boxes[d, 3]
        bw = bx1 - bx0
        bh = by1 - by0
        sx = bw / side
        sy = bh / side
        counts = np.zeros((bh, bw), dtype=np.float64) if mode != MODE_BINARY else np.zeros((1, 1))
        last = np.full((bh, bw), -1, np.int8) if channels == 3 else np.full((1, 1), -1, np.int8)
        hits = np.zeros((bh, bw), dtype=np.bool_)
        _orbit_general(
            maps,
            cum,
            start,
            m,
            state,
            x,
            y,
            points,
            wx,
            wy,
            sx,
            sy,
            flips[d],
            mode,
            patches[d],
            hits,
            counts,
            last,
            channels == 3,
        )
        top = 1.0
        if mode == MODE_DENSITY:
            for r in range(bh):
                for c in range(bw):
                    top = max(top, counts[r, c])
        scale = 1.0 / math.log1p(top)
        for r in range(bh):
            for c in range(bw):
                if not hits[r, c]:
                    continue
                if mode == MODE_BINARY:
                    level = 1.0
                elif mode == MODE_DENSITY:
                    level = 0.25 + 0.75 * math.log1p(counts[r, c]) * scale
                else:
                    level = counts[r, c]
                for ch in range(channels):
                    base = 255.0 if channels == 1 else float(map_color[start + last[r, c], ch])
                    images[n, by0 + r, bx0 + c, ch] = np.uint8(min(255.0, level * base + 0.5))


@ngjit
def _pixel(
    x: float, y: float, wx: float, wy: float, sx: float, sy: float, bw: int, bh: int, flip: bool
) -> tuple[int, int]:
    # np.floor keeps a float (Numba's math.floor converts to int64 at once, and plain Python's
    # raises on NaN). Converting NaN or a float beyond int64 to an integer is undefined (x86-64
    # gives the most negative integer, ARM 0 or a saturated value, which could paint a pixel):
    # a point further off the image than a patch reaches, or NaN (every comparison false), is
    # returned as (-2, -2), which no caller paints, before any conversion.
    fx = np.floor((x - wx) * sx)
    fy = np.floor((y - wy) * sy)
    if not (-2.0 <= fx <= bw + 1.0 and -2.0 <= fy <= bh + 1.0):
        return -2, -2
    px = int(fx)
    py = bh - 1 - int(fy)  # image rows grow downwards
    return (bw - 1 - px if flip else px), py


@ngjit
def _pixel_maps(
    maps: np.ndarray,
    start: int,
    m: int,
    wx: float,
    wy: float,
    sx: float,
    sy: float,
    bw: int,
    bh: int,
    flip: bool,
) -> tuple[np.ndarray, float, float, float, float]:
    """The draw's maps conjugated into pixel space: with U = su x + tu, V = sv y + tv (column
    and row as reals, flip and the downward rows folded in), a point's pixel is
    (floor U, floor V), and each step needs no window transform."""
    su = -sx if flip else sx
    tu = bw + sx * wx if flip else -sx * wx
    sv = -sy
    tv = bh + sy * wy
    out = np.empty((m, 6), dtype=np.float64)
    for q in range(m):
        a, b, c, d, e, f = (
            maps[start + q, 0],
            maps[start + q, 1],
            maps[start + q, 2],
            maps[start + q, 3],
            maps[start + q, 4],
            maps[start + q, 5],
        )
        bu = b * su / sv
        cv = c * sv / su
        out[q, 0] = a
        out[q, 1] = bu
        out[q, 2] = cv
        out[q, 3] = d
        out[q, 4] = su * e + tu - a * tu - bu * tv
        out[q, 5] = sv * f + tv - cv * tu - d * tv
    return out, tu, tv, su, sv


@ngjit
def _orbit_hits(
    maps: np.ndarray,
    cum: np.ndarray,
    start: int,
    m: int,
    state: np.uint64,
    x: float,
    y: float,
    points: int,
    wx: float,
    wy: float,
    sx: float,
    sy: float,
    flip: bool,
    image: np.ndarray,
) -> None:
    """The hot loop of binary grayscale images, in pixel space: step, paint the pixel white."""
    bh, bw = image.shape
    pm, tu, tv, su, sv = _pixel_maps(maps, start, m, wx, wy, sx, sy, bw, bh, flip)
    u = su * x + tu
    v = sv * y + tv
    # up to four maps: three thresholds in registers (missing ones unreachable)
    never = np.uint64(1) << np.uint64(40)
    c0 = cum[start] if m > 1 else never
    c1 = cum[start + 1] if m > 2 else never
    c2 = cum[start + 2] if m > 3 else never
    few = m <= 4
    z = np.uint64(0)
    for p in range(points):
        if p & 1 == 0:
            state, z = _next(state)
            word = z & _M32
        else:
            word = z >> _S32
        if few:  # int(): NumPy adds bools as "or" (plain Python), Numba as integers
            j = int(word >= c0) + int(word >= c1) + int(word >= c2)
        else:
            j = _choose(word, cum, start, m) - start
        u, v = (
            pm[j, 0] * u + pm[j, 1] * v + pm[j, 4],
            pm[j, 2] * u + pm[j, 3] * v + pm[j, 5],
        )
        # Bounds checked on the floats: floor(u) is in [0, bw) exactly when u is, NaN fails
        # every comparison, and no out-of-range float is converted (undefined behaviour).
        if 0.0 <= u < bw and 0.0 <= v < bh:
            image[int(v), int(u)] = 255


@ngjit
def _orbit_general(
    maps: np.ndarray,
    cum: np.ndarray,
    start: int,
    m: int,
    state: np.uint64,
    x: float,
    y: float,
    points: int,
    wx: float,
    wy: float,
    sx: float,
    sy: float,
    flip: bool,
    mode: int,
    patch: np.ndarray,
    hits: np.ndarray,
    counts: np.ndarray,
    last: np.ndarray,
    colour: bool,
) -> None:
    """Density counts, patch stamps and the map that last drew each pixel (for colour)."""
    bh, bw = hits.shape
    z = np.uint64(0)
    for p in range(points):
        if p & 1 == 0:
            state, z = _next(state)
            word = z & _M32
        else:
            word = z >> _S32
        j = _choose(word, cum, start, m)
        x, y = _step(maps, j, x, y)
        px, py = _pixel(x, y, wx, wy, sx, sy, bw, bh, flip)
        if mode == MODE_PATCH:
            for dy in range(-1, 2):
                for dx in range(-1, 2):
                    qx = px + dx
                    qy = py + dy
                    if 0 <= qx < bw and 0 <= qy < bh:
                        hits[qy, qx] = True
                        v = patch[dy + 1, dx + 1]
                        if v > counts[qy, qx]:
                            counts[qy, qx] = v
                        if colour:
                            last[qy, qx] = j - start
        elif 0 <= px < bw and 0 <= py < bh:
            hits[py, px] = True
            if mode == MODE_DENSITY:
                counts[py, px] += 1.0
            if colour:
                last[py, px] = j - start


@ngjit
def occupancy(
    maps: np.ndarray,
    probabilities: np.ndarray,
    index: int,
    k0: int,
    k1: int,
    points: int,
    grid: int,
) -> float:
    """Fraction of the grid x grid cells of the attractor's bounding square that ``points``
    chaos-game points occupy; -1 when the orbit leaves the finite numbers or collapses."""
    m = maps.shape[0]
    cum = cumulative_thresholds(probabilities)
    xs = np.empty(PROBE, dtype=np.float64)
    ys = np.empty(PROBE, dtype=np.float64)
    zero = np.int64(0)  # not a literal: see CHAOS
    seed = _seed(index, zero, k0, k1)
    x, y, state, wx, wy, side = _probe_window(maps, cum, zero, m, seed, xs, ys)
    if side <= 0.0:
        return -1.0
    cells = np.zeros((grid, grid), dtype=np.bool_)
    scale = grid / side
    z = np.uint64(0)
    for p in range(points):
        if p & 1 == 0:
            state, z = _next(state)
            word = z & _M32
        else:
            word = z >> _S32
        j = _choose(word, cum, zero, m)
        x, y = _step(maps, j, x, y)
        if not (math.isfinite(x) and math.isfinite(y)):
            return -1.0
        fx = (x - wx) * scale
        fy = (y - wy) * scale
        if 0.0 <= fx < grid and 0.0 <= fy < grid:  # checked before converting: see _orbit_hits
            cells[int(fy), int(fx)] = True
    filled = 0
    for r in range(grid):
        for c in range(grid):
            if cells[r, c]:
                filled += 1
    return filled / (grid * grid)


@ngjit
def uniforms(index: int, first_block: int, count: int, stream: int, k0: int, k1: int) -> np.ndarray:
    """``count`` uniforms in [0, 1) for counter (index, first_block + j // 2, stream)."""
    out = np.empty(count, dtype=np.float64)
    for j in range(0, count, 2):
        a, b = uniform2(index, first_block + j // 2, stream, k0, k1)
        out[j] = a
        if j + 1 < count:
            out[j + 1] = b
    return out


@ngjit
def plasma(
    roughness: float,
    low: np.ndarray,
    high: np.ndarray,
    index: int,
    k0: int,
    k1: int,
    image: np.ndarray,
) -> None:
    """Diamond-square noise t in [0, 1] (cropped from a 2^k + 1 grid), painted into ``image``
    (H, W, C) as low + (high - low) * t per channel; SplitMix64 seeded from Philox at
    (index, 0, BACKGROUND)."""
    size = max(image.shape[0], image.shape[1])
    n = 1
    while n + 1 < size:
        n *= 2
    n += 1
    grid = np.zeros((n, n), dtype=np.float64)
    i = np.uint64(index)
    stream = np.int64(BACKGROUND)  # not literals: see CHAOS
    w = philox4x32(np.uint32(i & _M32), np.uint32(i >> _S32), np.int64(0), stream, k0, k1)
    state = (np.uint64(w[0]) << _S32) | np.uint64(w[1])
    u = uniforms(index, np.int64(1), np.int64(4), stream, k0, k1)
    grid[0, 0], grid[0, n - 1], grid[n - 1, 0], grid[n - 1, n - 1] = u[0], u[1], u[2], u[3]
    step = n - 1
    amplitude = 1.0
    while step > 1:
        half = step // 2
        for r in range(half, n, step):
            for c in range(half, n, step):
                state, z = _next(state)
                a = float(z >> np.uint64(11)) * _INV_2_53
                mean = 0.25 * (
                    grid[r - half, c - half]
                    + grid[r - half, c + half]
                    + grid[r + half, c - half]
                    + grid[r + half, c + half]
                )
                grid[r, c] = mean + amplitude * (a - 0.5)
        for r in range(0, n, half):
            for c in range((r + half) % step, n, step):
                total = 0.0
                k = 0
                if r >= half:
                    total += grid[r - half, c]
                    k += 1
                if r + half < n:
                    total += grid[r + half, c]
                    k += 1
                if c >= half:
                    total += grid[r, c - half]
                    k += 1
                if c + half < n:
                    total += grid[r, c + half]
                    k += 1
                state, z = _next(state)
                a = float(z >> np.uint64(11)) * _INV_2_53
                grid[r, c] = total / k + amplitude * (a - 0.5)
        amplitude *= roughness
        step = half
    rows, cols, channels = image.shape
    lo = grid[0, 0]
    hi = grid[0, 0]
    for r in range(rows):
        for c in range(cols):
            lo = min(lo, grid[r, c])
            hi = max(hi, grid[r, c])
    span = hi - lo if hi > lo else 1.0
    for r in range(rows):
        for c in range(cols):
            t = (grid[r, c] - lo) / span
            for ch in range(channels):
                image[r, c, ch] = np.uint8(low[ch] + (high[ch] - low[ch]) * t)


#: the kernels each path of :func:`render` compiles, with the argument types it gives them
#: (Numba's signature syntax: ``[::1]`` a C-contiguous axis, ``[:, :]`` any layout), in the
#: order a helper compiles them ahead (synthc.compile_ahead): the orbit steps, which the build's
#: system search needs too, in the reverse of its order; the render's own callees; its top
#: kernel, whose compile (``_draw_window`` in it) a build that reaches it then waits for. A
#: build calls none of them with other types (tests/test_compile_ahead.py).
_ORBIT_STEPS = (  # called by _probe_window, which the system search compiles too: last first
    (_kth, "(f8[::1], i8)"),
    (_step, "(f8[:, ::1], i8, f8, f8)"),
    (_choose, "(u8, u8[::1], i8, i8)"),
    (_next, "(u8,)"),
)
_RENDER_POINTS = (
    *_ORBIT_STEPS,
    (_pixel_maps, "(f8[:, ::1], i8, i8, f8, f8, f8, f8, i8, i8, boolean)"),
    (
        _orbit_hits,
        "(f8[:, ::1], u8[::1], i8, i8, u8, f8, f8, i8, f8, f8, f8, f8, boolean, u1[:, :])",
    ),
    (
        _render_points,
        "(i8[::1], i8[::1], i8[::1], i8[::1], f8[:, ::1], u8[::1], i8[:, ::1], boolean[::1], i8,"
        " i8, i8, u1[:, :, :, ::1], f8[:, ::1])",
    ),
)
_RENDER_GENERAL = (
    *_ORBIT_STEPS,
    (_pixel, "(f8, f8, f8, f8, f8, f8, i8, i8, boolean)"),
    (
        _orbit_general,
        "(f8[:, ::1], u8[::1], i8, i8, u8, f8, f8, i8, f8, f8, f8, f8, boolean, i8, f8[:, ::1],"
        " boolean[:, ::1], f8[:, ::1], i1[:, ::1], boolean)",
    ),
    (
        _render_general,
        "(i8[::1], i8[::1], i8[::1], i8[::1], f8[:, ::1], u8[::1], u1[:, ::1], i8[:, ::1],"
        " boolean[::1], f8[:, :, ::1], i8, i8, i8, i8, u1[:, :, :, ::1], f8[:, ::1])",
    ),
)


#: the argument types :func:`plasma` is called with (synthc.compile_ahead)
_PLASMA = "(f8, f8[::1], f8[::1], i8, i8, i8, u1[:, :, ::1])"


def compile_plasma() -> None:
    """Compile (or load from the cache) :func:`plasma` for the argument types a build gives
    it (synthc.compile_ahead)."""
    plasma.compile_for(_PLASMA)


def compile_render(mode: int, channels: int) -> None:
    """Compile (or load from the cache) the kernels :func:`render` calls for ``mode`` and
    ``channels``, for the argument types it gives them (synthc.compile_ahead)."""
    for kernel, signature in _RENDER_POINTS if _points_only(mode, channels) else _RENDER_GENERAL:
        kernel.compile_for(signature)
