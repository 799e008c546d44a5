"""A spec without Jinja2 syntax is its own rendering (synthc.compiler.templating): the same
:class:`Rendered` as Jinja2 makes of it, and validating it loads no Jinja2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from synthc.compiler.jinja_render import render_template
from synthc.compiler.templating import (
    TemplateRead,
    VarReads,
    plain_rendering,
    render_spec,
    template_roots,
)
from synthc.errors import SpecError

PLAIN = [
    "",
    "\n",
    "samples: 10",
    "samples: 10\n",
    "a: 1\n\n\nb: 2\n\n",
    "generator:\n  kind: manifold\n  shape: {x: 1}\n  noise: [0.1, 0.2]  \n",
    "# var('n') and vars.m are only named here\nsamples: 3\n",
    "odd: '%} #} }} { % { #'\n",
    "名前: 'üñï ✓'\n\t\nx: 1",
]


def _jinja(path: Path, text: str, variables: dict[str, object] | None = None):
    read = TemplateRead("s.yaml", path.resolve(), "sha")
    reads = VarReads(dict(variables or {}), {})
    rendered = render_template(path, "s.yaml", template_roots(path, "s.yaml"), text, read, reads)
    return rendered, reads


@pytest.mark.parametrize("text", PLAIN)
def test_a_plain_spec_renders_as_jinja_renders_it(tmp_path, text):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    by_jinja, _ = _jinja(path, text)
    plain = plain_rendering(text, "s.yaml")
    assert (plain.text, plain.line_map, plain.source_text, plain.sources, plain.marks) == (
        by_jinja.text,
        by_jinja.line_map,
        by_jinja.source_text,
        by_jinja.sources,
        by_jinja.marks,
    )
    lines = text.split("\n")
    for line0, line in enumerate(lines):
        for col0 in range(len(line) + 2):
            assert plain.position(line0, col0) == by_jinja.position(line0, col0)


def test_render_spec_takes_the_plain_path_with_reads_and_unused_vars(tmp_path):
    text = "# var('n') named here\nsamples: 3\n"
    path = tmp_path / "s.yaml"
    path.write_text(text)
    rendered = render_spec(path, {"n": 1, "m": 2}, display_path="s.yaml")
    assert rendered.text == text
    assert [(r.display, r.real) for r in rendered.reads] == [("s.yaml", path.resolve())]
    # 'n' counts as read (named literally), 'm' does not: as for a templated spec
    assert [p.message for p in rendered.var_problems] == [
        "--var m=2: the spec never reads 'm'; it reads n"
    ]


def test_a_plain_spec_error_points_at_its_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("synthc: 1\nname: x\nseed: 1\nsamples: many\n")
    from synthc.compiler.compiling import compile_spec

    with pytest.raises(SpecError) as caught:
        compile_spec(path)
    assert any(p.position and p.position.line == 4 for p in caught.value.problems)


CHECK = (
    "import json, sys\n"
    "from synthc.cli import main\n"
    "code = main(['validate', sys.argv[1]])\n"
    "print(json.dumps([code, 'jinja2' in sys.modules]))\n"
)


@pytest.mark.parametrize(("spec", "jinja"), [("blobs", False), ("moons", True)])
def test_validating_a_spec_without_templates_loads_no_jinja(spec, jinja):
    path = Path(__file__).parents[1] / "specs" / f"{spec}.yaml"
    assert ("{{" in path.read_text()) is jinja
    result = subprocess.run(
        [sys.executable, "-c", CHECK, str(path)], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout.splitlines()[-1]) == [0, jinja]
