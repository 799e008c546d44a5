"""Every resource bound synthc enforces, in one place, checked before work starts.

A spec, a template, a ``--var`` value, a file a spec names and everything in an output directory
are untrusted. Each limit here is named in the error that enforces it, so a user who hits one
knows what to change. docs/limits.md lists them for users.
"""

from __future__ import annotations

import os

MiB = 1 << 20
GiB = 1 << 30

# -- spec text, templates and YAML ------------------------------------------------------------
#: bytes of a spec file or of a template it includes
MAX_SPEC_BYTES = 1 * MiB
#: bytes of the rendered YAML
MAX_RENDERED_BYTES = 16 * MiB
#: seconds of CPU a template render may take
MAX_TEMPLATE_SECONDS = 10.0
#: items a template's range() may produce, and length of a string or list an operator builds
MAX_TEMPLATE_ITEMS = 1_000_000
#: items all the values one render builds add up to (copies kept in a list cannot grow past it)
MAX_TEMPLATE_BUILT_ITEMS = 20_000_000
#: digits of an integer a template computes (``10 ** 5000`` is refused)
MAX_TEMPLATE_INT_DIGITS = 4300
#: nesting depth of YAML mappings and sequences
MAX_YAML_DEPTH = 100
#: YAML nodes after alias expansion (an alias counts every node it repeats)
MAX_YAML_NODES = 200_000

# -- the generators' structure -----------------------------------------------------------------
#: related tables in one tabular spec (`tables:`); a real schema has a handful, and checking a
#: tree of them costs time that grows faster than their count
MAX_TABLES = 64
#: characters of a split name or a table name of related tables: each is a folder of the output
#: and names its files, where a file system refuses a name over 255 bytes
MAX_FOLDER_NAME = 128

# -- the plan ---------------------------------------------------------------------------------
#: samples in one dataset
MAX_SAMPLES = 10**12
#: shards in one plan
MAX_SHARDS = 1_000_000
#: row counts of related tables' parent rows drawn to number the rows of a plan (about 35
#: million a second on one core: this many take about five minutes)
MAX_PLANNED_COUNTS = 10**10

# -- workers of a build (--workers) ------------------------------------------------------------
#: workers (threads, processes or Dask LocalCluster processes) one build or reproduction starts:
#: the most of MAX_WORKERS and WORKERS_PER_CPU x the CPUs this process may use. A two-socket
#: server has up to 512 CPUs today, and writing to an object store is worth a few workers per
#: CPU; --workers 100000 started that many threads or processes
MAX_WORKERS = 1024
WORKERS_PER_CPU = 4


def max_workers() -> int:
    """The most workers a build may start here (MAX_WORKERS, or more on a machine of more
    than MAX_WORKERS / WORKERS_PER_CPU CPUs)."""
    return max(MAX_WORKERS, WORKERS_PER_CPU * usable_cpus())


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, where the platform tells)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# -- memory of a build -------------------------------------------------------------------------
#: estimated bytes one sample may need while it is generated
MAX_SAMPLE_BYTES = 1 * GiB
#: estimated bytes a worker may hold for one shard batch
MAX_BATCH_BYTES = 2 * GiB
#: estimated bytes of a generator's facts (cluster centres, a rotation, a class catalog), which
#: every worker computes and the manifest records
MAX_FACT_BYTES = 256 * MiB

# -- work of a build ---------------------------------------------------------------------------
#: chaos-game points one fractal image draws (render.points x the most fractals multi puts in an
#: image): 7.8 s of CPU measured at 4096 px in patch mode with colour on plasma, where a point
#: costs most (cache misses); the example specs draw 100,000 to 500,000, FractalDB 200,000
MAX_SAMPLE_POINTS = 20_000_000
#: images one `synthc preview` draws (`-n`): each is generated, then tiled into one PNG
MAX_PREVIEW_IMAGES = 1024

# -- files a spec names (per kind; checked before reading) -------------------------------------
MAX_INPUT_BYTES = {
    "font": 64 * MiB,
    "text": 256 * MiB,
    "image": 64 * MiB,
    "catalog": 256 * MiB,
}
#: files synthc takes from one directory a spec names (fonts.dir, background.images, a catalog)
MAX_INPUT_FILES = 10_000
#: pixels of one input image (background images), checked from its header before decoding
MAX_IMAGE_PIXELS = 64 * 1024 * 1024
#: rows of a .npy catalog file (maps of one class), checked from its header before loading
MAX_CATALOG_MAPS = 64

# -- files read from an output directory -------------------------------------------------------
#: bytes of ``.synthc/state.json`` and ``manifest.json``
MAX_STATE_BYTES = 256 * MiB
MAX_MANIFEST_BYTES = 256 * MiB
#: JSON values in one of them (counted before parsing as commas and brackets, which over-counts
#: text holding them): parsing costs memory per value, tens of bytes each, so 256 MiB of ``[],``
#: would take 5 GB; a manifest of MAX_SHARDS shards holds about 8 million
MAX_JSON_VALUES = 16_000_000
#: facts (generator arrays) larger than this many numbers go to .npy files beside the manifest
MAX_INLINE_FACT_NUMBERS = 4096
