"""Generator values are checked at validate time: overflow, non-finite numbers, hopeless counts.

Each case is a spec error at its field (``FILE:LINE:COL: generator.x.y: message``, exit 2) found
by ``synthc validate``, with no traceback.
"""

from __future__ import annotations

import re
import typing

import pytest
from pydantic import BaseModel

from synthc import FORMAT_VERSION, generators
from synthc.compiler.compiling import compile_spec
from synthc.compiler.planning import content_key, plan

HEAD = "synthc: 1\nname: t\nseed: 1\n"


def refused(cli, write_spec, text: str, line: int, field: str, message: str) -> str:
    """Validate ``text``; assert exit 2 and a one-line problem at ``line`` and ``field``."""
    path = write_spec(text)
    code, out, err = cli("validate", path)
    assert code == 2, err
    assert "Traceback" not in err
    pattern = rf"^{re.escape(str(path))}:{line}:\d+: {re.escape(field)}: .*{re.escape(message)}"
    assert any(re.match(pattern, row) for row in err.splitlines()), err
    return err


def tabular(columns: str, samples: int = 100) -> str:
    return f"{HEAD}samples: {samples}\ngenerator:\n  kind: tabular\n  columns:\n{columns}"


# -- integers that would overflow their dtype ------------------------------------------------


def test_sequence_that_wraps_past_int64_is_refused(cli, write_spec):
    text = tabular("    s: {dist: sequence, start: 9223372036854775000, step: 1000}\n")
    refused(cli, write_spec, text, 8, "generator.columns.s.step", "outside the range of int64")


def test_sequence_that_fits_over_the_samples_is_accepted(cli, write_spec):
    text = tabular("    s: {dist: sequence, start: 9223372036854775000, step: 1}\n")
    assert cli("validate", write_spec(text))[0] == 0


def test_integer_column_beyond_its_dtype_is_refused(cli, write_spec):
    text = tabular("    i: {dist: integer, low: 0, high: 1000, dtype: int8}\n")
    refused(cli, write_spec, text, 8, "generator.columns.i.high", "outside the range of int8")


def test_clip_that_keeps_an_integer_column_in_its_dtype_is_accepted(cli, write_spec):
    text = tabular("    i: {dist: integer, low: 0, high: 1000, dtype: int8, clip: [0, 100]}\n")
    assert cli("validate", write_spec(text))[0] == 0


def test_a_clip_that_moves_an_integer_column_out_of_its_dtype_is_blamed(cli, write_spec):
    # the clip turns every value of 0..10 into -500: the error named high, which is not at fault
    text = tabular("    i: {dist: integer, low: 0, high: 10, dtype: int8, clip: [-1000, -500]}\n")
    refused(cli, write_spec, text, 8, "generator.columns.i.clip", "values reach -500")


@pytest.mark.parametrize(
    ("column", "field"),
    [
        ("{dist: poisson, lam: 100, dtype: int8}", "lam"),
        ("{dist: binomial, n: 40000, p: 0.5, dtype: int16}", "n"),
        ("{dist: constant, value: 100000000000000000000}", "value"),
        ("{dist: sequence, start: 0, step: 100000000, dtype: int32}", None),
    ],
    ids=["poisson", "binomial", "constant", "sequence-dtype"],
)
def test_every_integer_kind_is_checked_against_its_dtype(cli, write_spec, column, field):
    text = tabular(f"    c: {column}\n")
    if field is None:  # sequence has no dtype field: the unknown key is the error
        refused(cli, write_spec, text, 8, "generator.columns.c.dtype", "unknown field")
    else:
        refused(cli, write_spec, text, 8, f"generator.columns.c.{field}", "outside the range")


def test_float_sequence_that_overflows_is_refused(cli, write_spec):
    text = tabular("    s: {dist: sequence, start: 0.0, step: 1.0e+307}\n", samples=1000)
    refused(cli, write_spec, text, 8, "generator.columns.s.step", "outside the finite range")


def test_integers_too_large_for_a_float_are_refused_without_a_traceback(cli, write_spec):
    big = "1" + "0" * 400
    text = tabular(f"    s: {{dist: sequence, start: 0.5, step: {big}}}\n")
    refused(cli, write_spec, text, 8, "generator.columns.s.step", "outside the finite range")
    text = tabular(f"    s: {{dist: sequence, start: {big}}}\n")
    refused(cli, write_spec, text, 8, "generator.columns.s.start", "outside the range of int64")


def test_quoted_impossible_date_is_a_spec_error(cli, write_spec):
    text = tabular("    d: {dist: date, start: '2020-13-45', end: '2021-01-01'}\n")
    refused(cli, write_spec, text, 8, "generator.columns.d.start", "date")


# -- non-finite numbers ------------------------------------------------------------------------


def _models(annotation: typing.Any, seen: set[type]) -> None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        for field in annotation.model_fields.values():
            _models(field.annotation, seen)
        return
    for arg in typing.get_args(annotation):
        _models(arg, seen)


def test_no_float_field_of_any_generator_config_accepts_inf_or_nan():
    seen: set[type] = set()
    for kind in generators.kinds():
        _models(generators.get(kind).Config, seen)
    assert len(seen) > 20  # every generator and its nested parts were reached
    loose = [
        model.__qualname__ for model in seen if model.model_config.get("allow_inf_nan") is not False
    ]
    assert not loose, f"models that accept .inf/.nan: {loose}"


@pytest.mark.parametrize(
    ("generator", "line", "field"),
    [
        ("kind: manifold\n  shape: blobs\n  centers: [[.inf, 0.0]]", 8, "generator.centers[0][0]"),
        ("kind: manifold\n  shape: blobs\n  center_box: [.nan, 1.0]", 8, "generator.center_box[0]"),
        ("kind: ocr_text\n  blur: [0, .inf]", 7, "generator.blur[1]"),
        (
            "kind: fractal\n  classes: 1\n  instances: 1\n  multi: {scale: [0.1, .nan]}",
            9,
            "generator.multi.scale[1]",
        ),
        (
            "kind: tabular\n  columns: {x: {dist: normal}}\n  correlation: {x: {y: .nan}}",
            8,
            "generator.correlation.x.y",
        ),
    ],
    ids=["blobs-centres", "center-box", "ocr-blur", "fractal-scale", "tabular-correlation"],
)
def test_non_finite_numbers_are_refused_at_their_field(cli, write_spec, generator, line, field):
    text = f"{HEAD}samples: 1\ngenerator:\n  {generator}\n"
    refused(cli, write_spec, text, line, field, "finite number")


# -- plan size ---------------------------------------------------------------------------------


def test_an_unreasonable_sample_count_is_refused_at_once(cli, write_spec):
    text = f"{HEAD}samples: 1000000000000000\ngenerator: {{kind: manifold, shape: moons}}\n"
    refused(cli, write_spec, text, 4, "samples", "synthc.limits.MAX_SAMPLES")
    code, _, err = cli("plan", write_spec(text))
    assert code == 2 and "MAX_SAMPLES" in err


def test_a_plan_with_too_many_shards_is_refused_naming_shard_size(cli, write_spec):
    text = (
        f"{HEAD}samples: 100000000000\ngenerator: {{kind: manifold, shape: moons}}\n"
        "output: {shard_size: 1000}\n"
    )
    err = refused(cli, write_spec, text, 6, "output.shard_size", "synthc.limits.MAX_SHARDS")
    assert "100,000,000 shards" in err


def test_related_tables_whose_planning_would_draw_too_many_counts_are_refused(cli, write_spec):
    # validate said ok, and plan drew every parent row's count for hours
    text = (
        f"{HEAD}samples: 1000000000000\ngenerator:\n  kind: tabular\n  tables:\n"
        "    users: {columns: {a: {dist: normal}}}\n"
        "    visits:\n      parent: users\n      rows_per_parent: {dist: poisson, lam: 3}\n"
        "      columns: {b: {dist: normal}}\n"
        "    clicks:\n      parent: visits\n      rows_per_parent: {dist: constant, value: 2}\n"
        "      columns: {c: {dist: normal}}\n"
        "output: {shard_size: 2000000}\n"
    )
    err = refused(cli, write_spec, text, 4, "samples", "synthc.limits.MAX_PLANNED_COUNTS")
    assert "about 4e+12 parent rows in all (users, visits)" in err
    code, _, err = cli("plan", write_spec(text))
    assert code == 2 and "MAX_PLANNED_COUNTS" in err
    code, _, err = cli("validate", write_spec(text.replace("1000000000000", "1000000000")))
    assert code == 0, err


def test_task_keys_hash_the_shared_parts_once_but_equal_the_full_content_key(write_spec):
    text = (
        f"{HEAD}samples: 1000\nsplits: {{train: 0.7, test: 0.3}}\n"
        "generator: {kind: manifold, shape: moons}\noutput: {shard_size: 300}\n"
    )
    spec = compile_spec(write_spec(text)).spec
    result = plan(spec, {"numpy": "1", "numba": "2", "polars": "3"})
    for task in result.tasks:
        identity = {
            "format_version": FORMAT_VERSION,
            "libraries": {"numpy": "1", "numba": "2", "polars": "3"},
            "kind": "manifold",
            "config": task.config,
            "seed": 1,
            "range": [task.start, task.stop],
            "path": task.path,
            "output": task.output,
        }
        assert task.key == content_key(identity)


# -- OCR text with nothing to draw -------------------------------------------------------------


def test_blank_list_items_blame_the_text_not_the_fonts(cli, write_spec):
    text = (
        f"{HEAD}samples: 1\ngenerator:\n  kind: ocr_text\n"
        "  text: {source: list, items: ['', '  ']}\n"
    )
    err = refused(cli, write_spec, text, 7, "generator.text.items", "no text to draw")
    assert "generator.fonts" not in err


# -- OCR settings under which no line can ever be drawn ----------------------------------------


def ocr(lines: str) -> str:
    return f"{HEAD}samples: 1\ngenerator:\n  kind: ocr_text\n{lines}"


def test_a_min_contrast_the_colours_cannot_reach_is_refused(cli, write_spec):
    # 21 is black on white only; the default ink is #282828
    err = refused(
        cli, write_spec, ocr("  min_contrast: 21\n"), 7, "generator.min_contrast", "at most 17.08"
    )
    assert "'#282828'" in err and "lower min_contrast" in err


def test_ink_the_colour_of_its_background_is_refused_at_the_colour(cli, write_spec):
    text = ocr("  text_color: '#ffffff'\n  background: {kinds: [plain]}\n")
    refused(cli, write_spec, text, 7, "generator.text_color", "no line can reach min_contrast 3")


@pytest.mark.parametrize(
    "lines",
    [
        "  min_contrast: 21\n  text_color: '#000000'\n  background: {kinds: [plain]}\n",
        "  text_color: '#ffffff'\n  background: {kinds: [plain]}\n  stroke: {width: 2}\n",
        "  text_color: '#ffffff'\n  background: {kinds: [plain]}\n  min_contrast: 1\n",
        "  text_color: '#ffffff'\n  background: {kinds: [plain, gaussian_noise]}\n",
    ],
    ids=["black-on-white", "dark-stroke", "no-threshold", "noise-can-be-dark"],
)
def test_colours_that_can_reach_min_contrast_stay_valid(cli, write_spec, lines):
    assert cli("validate", write_spec(ocr(lines)))[0] == 0


def test_a_blur_that_washes_out_every_line_is_refused(cli, write_spec):
    err = refused(cli, write_spec, ocr("  blur: [100000, 100000]\n"), 7, "generator.blur", "")
    assert "washes every line into its background" in err and "below min_contrast 3" in err
    lenient = ocr("  blur: [100000, 100000]\n  min_contrast: 1\n")
    assert cli("validate", write_spec(lenient))[0] == 0


def test_a_blur_radius_pillow_refuses_is_refused_whatever_the_threshold(cli, write_spec):
    text = ocr("  blur: [0, 1.0e+20]\n  min_contrast: 1\n")
    refused(cli, write_spec, text, 7, "generator.blur", "Pillow's Gaussian blur refuses")


@pytest.mark.parametrize("blur", ["[0, 1]", "[2, 2]", "[0, 100]"])
def test_blurs_that_leave_some_lines_legible_stay_valid(cli, write_spec, blur):
    assert cli("validate", write_spec(ocr(f"  blur: {blur}\n")))[0] == 0


@pytest.mark.parametrize("blur", ["[0, 100000]", "[1, 1.0e+9]", "[0, 10000]"])
def test_a_blur_range_that_washes_out_nearly_every_draw_is_refused(cli, write_spec, blur):
    """Only radii up to about 43 leave a line legible at size 32: `blur: [0, 100000]` validated,
    and its build failed at its first sample after 1,000 re-draws."""
    err = refused(cli, write_spec, ocr(f"  blur: {blur}\n"), 7, "generator.blur", "")
    assert "of the radii" in err and "1,000 attempts" in err
    assert "traceback" not in err.lower()


def test_a_blur_that_washes_out_the_lines_of_every_font_is_refused(cli, write_spec):
    """A solid band of ink as tall as the line stays legible at radius 40 (size 32), but no
    font draws one: `blur: [40, 50]` validated, and its build failed at its first sample after
    1,000 re-draws. Each font's densest line, drawn and blurred, bounds it."""
    err = refused(cli, write_spec, ocr("  blur: [40, 50]\n"), 7, "generator.blur", "")
    assert "densest characters of each of the 100 fonts" in err
    assert "at radius 40" in err and "lower min_contrast" in err
    lenient = ocr("  blur: [40, 50]\n  min_contrast: 1\n")
    assert cli("validate", write_spec(lenient))[0] == 0


def test_text_the_fonts_rarely_cover_is_refused_at_the_text(cli, write_spec):
    """trdg's Thai dictionary holds 11 runs of dots among 81,022 words: Latin fonts draw one, so
    it validated, and its build failed at its first sample after 1,000 re-draws for glyphs."""
    text = ocr("  text: {source: dict, language: th, words: [1, 1]}\n")
    err = refused(cli, write_spec, text, 7, "generator.text.language", "of attempts draw text")
    assert "1,000 attempts of a sample would fail" in err and "\u0e01" in err
    mixed = ocr('  text: {source: list, items: [ok, "\u0e01\u0e02"]}\n')
    assert cli("validate", write_spec(mixed))[0] == 0


def test_text_that_puts_no_ink_on_the_image_is_refused_at_the_text(cli, write_spec):
    # U+200B maps to a glyph without an outline, or to none, in every trdg Latin font
    items = ocr('  text: {source: list, items: ["\\u200b", " \\u200b "]}\n')
    err = refused(cli, write_spec, items, 7, "generator.text.items", "U+200B")
    assert "a line without ink has contrast 1, below min_contrast 3" in err
    charset = ocr("  text: {source: random, charset: \"'\\u200b'\"}\n")
    refused(cli, write_spec, charset, 7, "generator.text.charset", "no font draws ink")
    # blank lines pass a min_contrast of 1: they are drawn, as blank images
    lenient = ocr('  text: {source: list, items: ["\\u200b"]}\n  min_contrast: 1\n')
    assert cli("validate", write_spec(lenient))[0] == 0


@pytest.mark.parametrize(
    ("text", "field", "shown"),
    [
        ('{source: list, items: ["\\u200d"]}', "generator.text.items", "U+200D"),
        ('{source: list, items: ["\\u200c\\u200e", " \\u200d"]}', "generator.text.items", ""),
        ("{source: random, charset: \"'\\u200d\\u200c'\"}", "generator.text.charset", ""),
    ],
    ids=["zwj", "zwnj-lrm", "charset"],
)
def test_text_that_shaping_hides_is_refused_at_the_text(cli, write_spec, text, field, shown):
    """Lato maps U+200C, U+200D and U+200E to glyphs with outlines, so they passed as ink; but
    text past U+058F is laid out by Raqm, which hides such default-ignorable characters, and the
    build failed after 1,000 attempts at its first sample."""
    err = refused(cli, write_spec, ocr(f"  text: {text}\n"), 7, field, "no font draws ink")
    assert shown in err


def test_a_soft_hyphen_drawn_without_shaping_keeps_text_valid(cli, write_spec):
    # U+00AD is below U+0590: basic layout draws the glyph Latin fonts give it
    text = ocr('  text: {source: list, items: ["\\u00ad"]}\n')
    assert cli("validate", write_spec(text))[0] == 0


def test_a_charset_of_whitespace_is_refused(cli, write_spec):
    text = ocr("  text: {source: random, charset: \"'  '\"}\n  min_contrast: 1\n")
    refused(cli, write_spec, text, 7, "generator.text.charset", "every character is whitespace")


def test_one_inked_character_keeps_text_valid(cli, write_spec):
    text = ocr('  text: {source: list, items: ["\\u200b", "a\\u200b"]}\n')
    assert cli("validate", write_spec(text))[0] == 0


# -- fractaldb fill rates ----------------------------------------------------------------------


def fractal(system: str) -> str:
    return (
        f"{HEAD}samples: 2\ngenerator:\n  kind: fractal\n  classes: 2\n  instances: 1\n"
        f"  system: {system}\n"
    )


def test_an_unreachable_fractaldb_fill_rate_is_refused_at_validate(cli, write_spec):
    text = fractal("{sampler: fractaldb, fill_rate: 0.99}")
    refused(cli, write_spec, text, 9, "generator.system.fill_rate", "use at most 0.6")


@pytest.mark.parametrize("rate", [0.0, 0.1, 0.2])
def test_fractaldb_systems_of_one_map_are_refused_at_validate(cli, write_spec, rate):
    """About 0.1% of one-map candidates pass the samplers' checks (a single map's orbit is a
    point or a curve): fill_rate 0.1 validated and about one class in five found none in its
    10,000 attempts, failing the build."""
    one_map = fractal(f"{{sampler: fractaldb, maps: [1, 1], fill_rate: {rate}}}")
    refused(cli, write_spec, one_map, 9, "generator.system.maps", "use at least 2 maps")
    some_one = fractal(f"{{sampler: fractaldb, maps: [1, 2], fill_rate: {rate}}}")
    assert cli("validate", write_spec(some_one))[0] == 0


@pytest.mark.parametrize("rate", [0.2, 0.6])
def test_usual_fractaldb_fill_rates_stay_valid(cli, write_spec, rate):
    assert (
        cli("validate", write_spec(fractal(f"{{sampler: fractaldb, fill_rate: {rate}}}")))[0] == 0
    )


def test_a_failed_system_search_is_a_build_error_naming_fill_rate_and_class(monkeypatch):
    from synthc.errors import BuildError
    from synthc.generators.fractal import systems
    from synthc.generators.fractal.config import SystemConfig

    monkeypatch.setattr(systems, "MAX_ATTEMPTS", 5)
    config = SystemConfig(sampler="fractaldb", fill_rate=0.99)
    with pytest.raises(BuildError) as caught:
        systems.class_system(config, 1, 3, systems.Search())
    message = str(caught.value)
    assert message.startswith("generator.system.fill_rate: class 3: ")
    assert "lower fill_rate" in message and "\n" not in message


# -- absurd values anywhere in a generator -----------------------------------------------------


def _nodes(node: typing.Any, path: tuple = ()) -> typing.Iterator[tuple[tuple, typing.Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _nodes(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _nodes(value, (*path, i))


def _replacements(node: typing.Any) -> list[typing.Any]:
    """Absurd numbers for a number; wrong shapes and types for anything."""
    if isinstance(node, list):
        return [[], node[:1], node + node, [None], "x", 0]
    if isinstance(node, dict):
        return [{}, [], None, "x"]
    if isinstance(node, str):
        return ["", " ", "x" * 100_000, 5, None]
    return [10**400, -(10**400), 1e308, -1, 0, None, "x", [], float("nan")]


def test_absurd_values_in_any_example_generator_field_are_spec_errors_or_fine():
    import copy
    import sys
    from pathlib import Path

    from synthc.compiler.loading import load_spec
    from synthc.compiler.validation import validate_data
    from synthc.errors import SpecError

    sys.path.insert(0, str(Path(__file__).parent))
    from test_example_specs import SPECS, small

    checked = 0
    for spec in SPECS:
        data = load_spec(spec, small(spec), display_path=str(spec)).data
        for path, node in [
            (("samples",), 1),
            *((("generator", *p), n) for p, n in _nodes(data["generator"]) if p),
        ]:
            for value in _replacements(node):
                mutated = copy.deepcopy(data)
                parent = mutated
                for part in path[:-1]:
                    parent = parent[part]
                parent[path[-1]] = value
                try:
                    validate_data(mutated, lambda *_: None)
                except SpecError as error:
                    assert all("\n" not in str(p) for p in error.problems)
                checked += 1
    assert checked > 1000  # every field of every example generator, several values each


@pytest.mark.parametrize(
    ("generator", "field"),
    [
        ("text: {words: []}", "generator.text.words"),
        ("text: {source: random, length: []}", "generator.text.length"),
        ("skew: []", "generator.skew"),
        ("margins: [5]", "generator.margins"),
    ],
)
def test_malformed_pairs_are_reported_not_estimated(cli, write_spec, generator, field):
    text = f"{HEAD}samples: 1\ngenerator:\n  kind: ocr_text\n  {generator}\n"
    refused(cli, write_spec, text, 7, field, "")


def test_an_ocr_line_that_is_never_visible_is_a_one_line_build_error(write_spec, monkeypatch):
    from synthc.errors import BuildError
    from synthc.generators.ocr import drawing as ocr

    text = (
        f"{HEAD}samples: 1\ngenerator:\n  kind: ocr_text\n"
        "  text: {source: random, length: [300, 300]}\n  skew: [45, 45]\n"
    )
    config = compile_spec(write_spec(text)).spec.generator
    monkeypatch.setattr(ocr, "MAX_ATTEMPTS", 2)
    stats = {"glyph_resamples": 0, "visibility_resamples": 0}
    with pytest.raises(BuildError) as caught:
        ocr.sample(config, 1, 0, stats)
    message = str(caught.value)
    assert message.startswith("generator.text: sample 0: no drawable, visible line in 2 attempts")
    assert "\n" not in message
