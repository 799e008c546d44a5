"""Random templates (whitespace control, raw, comments, macros, include/import, loops, branches)
with one planted mistake: the error names the file, line and column the user wrote."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthc.compiler.compiling import compile_spec
from synthc.errors import SpecError

SPEC_LINES = [
    "synthc: 1",
    "name: tiny",
    'version: "1.0.0"',
    "description: a tiny test dataset",
    "seed: 7",
    "samples: 1000",
    "splits: {train: 0.8, test: 0.2}",
    "generator: {kind: manifold, shape: swiss_roll, noise: 0.05}",
    "output: {format: parquet, shard_size: 300}",
]
HEADER = "{% import 'lib.j2' as lib -%}\n{% macro wrap() %}{{ caller() }}{% endmacro -%}\n"
LIB = "{% macro line(t) %}{{ t }}{% endmacro %}\n"


#: what a wrapper makes of one line: (text, line and column of the content in it, exact)
Where = tuple[str, int, int, bool]


@dataclass
class Chunk:
    """Template text that renders to some spec lines; where the planted text starts in it."""

    text: str
    #: (file, 0-based line, 0-based col, exact) in the chunk; exact: literal text (a column
    #: inside it is exact), else the start of the {{ }} that prints it
    at: tuple[str, int, int, bool] | None = None


def _plain(content: str, literal: bool) -> Where:
    return f"{content}\n", 0, 0, True


def _after_expression(content: str, literal: bool) -> Where:
    return f"{{{{ '' }}}}{content}\n", 0, len("{{ '' }}"), True


def _if_trimmed(content: str, literal: bool) -> Where:
    return f"{{% if true -%}}\n  {content}\n{{%- endif %}}\n", 1, 2, True


def _raw(content: str, literal: bool) -> Where | None:
    return (f"{{% raw %}}{content}{{% endraw %}}\n", 0, len("{% raw %}"), True) if literal else None


def _comment(content: str, literal: bool) -> Where:
    return f"{{# a note -#}}\n{content}\n", 1, 0, True


def _macro(content: str, literal: bool) -> Where:
    # a one-line macro's output is reported at the {{ }} that calls it
    head, tail = "{% macro m() %}", "{% endmacro %}"
    return f"{head}{content}{tail}{{{{ m() }}}}\n", 0, len(head) + len(content) + len(tail), False


def _macro_lines(content: str, literal: bool) -> Where:
    # literal text on a macro's later lines is reported where it is written
    head, tail = "{% macro m() %}", "{% endmacro %}"
    text = f"{head}\n{content}\n{tail}{{{{ m() }}}}\n"
    return (text, 1, 0, True) if literal else (text, 2, len(tail), False)


def _set_block(content: str, literal: bool) -> Where:
    # text captured by {% set %} is data; printed, it is reported at the {{ }} printing it
    head, tail = "{% set b -%}", "{% endset -%}"
    return f"{head}{content}{tail}{{{{ b }}}}\n", 0, len(head) + len(content) + len(tail), False


def _call(content: str, literal: bool) -> Where:
    head = "{% call wrap() %}"
    return f"{head}{content}{{% endcall %}}\n", 0, len(head), True


LINE_WRAPPERS = [
    _plain,
    _after_expression,
    _if_trimmed,
    _raw,
    _comment,
    _macro,
    _macro_lines,
    _set_block,
    _call,
]


def _shifted(
    at: tuple[str, int, int, bool] | None, lines: int
) -> tuple[str, int, int, bool] | None:
    """``at`` moved down ``lines`` lines, if it is in the spec (an included file does not move)."""
    return at and (at[0], at[1] + (lines if at[0] == "s.yaml" else 0), at[2], at[3])


def _loop(chunk: Chunk) -> Chunk:
    return Chunk(f"{{% for _ in [1] -%}}\n{chunk.text}{{% endfor -%}}\n", _shifted(chunk.at, 1))


def _else(chunk: Chunk) -> Chunk:
    text = f"{{% if false %}}\nnope: 1\n{{% else -%}}\n{chunk.text}{{% endif -%}}\n"
    return Chunk(text, _shifted(chunk.at, 3))


@st.composite
def templates(draw: st.DrawFn) -> tuple[str, str | None, tuple[str, int, int], str]:
    """(spec template, included file or None, expected (file, line, col), expected field)."""
    kind = draw(st.sampled_from(["unknown key", "printed key", "bad value", "value after expr"]))
    lines = list(SPEC_LINES)
    if kind in ("unknown key", "printed key"):
        where = draw(st.integers(0, len(lines)))
        planted = "bogus_key: 1" if kind == "unknown key" else "{{ 'bogus_key' }}: 1"
        lines.insert(where, planted)
        field, shift = "bogus_key", 0
    else:
        where = lines.index("samples: 1000")
        planted = "samples: many" if kind == "bad value" else "samples: {{ '' }}many"
        lines[where] = planted
        field = "samples"
        shift = len("samples: ") + (len("{{ '' }}") if kind == "value after expr" else 0)
    literal = kind != "printed key" and "{{" not in planted
    included = None
    chunks = []
    for index, line in enumerate(lines):
        if index == where and draw(st.booleans()) and draw(st.booleans()):
            # the planted line comes from an included file, written with any construct
            options = [w for w in LINE_WRAPPERS if w(line, literal) is not None]
            included, dline, dcol, exact = draw(st.sampled_from(options))(line, literal)
            at = ("part.yaml", dline, dcol, exact)
            chunks.append(Chunk("{% include 'part.yaml' -%}\n", at))
            continue
        if index == where and kind == "printed key" and draw(st.booleans()):
            head = "{{ lib.line('bogus_key') }}"
            chunks.append(Chunk(f"{head}: 1\n", ("s.yaml", 0, 0, False)))
            continue
        options = [w for w in LINE_WRAPPERS if w(line, literal or index != where) is not None]
        wrapper = draw(st.sampled_from(options))
        text, dline, dcol, exact = wrapper(line, literal or index != where)
        chunks.append(Chunk(text, ("s.yaml", dline, dcol, exact) if index == where else None))
    # loops and branches around a few consecutive chunks (nesting allowed)
    for _ in range(draw(st.integers(0, 3))):
        start = draw(st.integers(0, len(chunks) - 1))
        stop = draw(st.integers(start + 1, min(len(chunks), start + 3)))
        group = chunks[start:stop]
        at, offset = None, 0
        for chunk in group:
            at = _shifted(chunk.at, offset) or at
            offset += chunk.text.count("\n")
        merged = Chunk("".join(c.text for c in group), at)
        chunks[start:stop] = [draw(st.sampled_from([_loop, _else]))(merged)]
    text, line = HEADER, HEADER.count("\n")
    expected = None
    for chunk in chunks:
        if chunk.at:
            file, dline, dcol, exact = chunk.at
            base = line if file == "s.yaml" else 0
            expected = (file, base + dline + 1, dcol + (shift if exact else 0) + 1)
        text += chunk.text
        line += chunk.text.count("\n")
    assert expected is not None
    return text, included, expected, field


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=templates())
def test_planted_mistake_is_reported_where_it_was_written(tmp_path, case):
    text, included, expected, field = case
    (tmp_path / "lib.j2").write_text(LIB)
    (tmp_path / "part.yaml").write_text(included or "")
    spec = tmp_path / "s.yaml"
    spec.write_text(text)
    with pytest.raises(SpecError) as error:
        compile_spec(spec)
    problems = error.value.problems
    assert [p.path for p in problems] == [field], text
    position = problems[0].position
    found = (position.file.rpartition("/")[2], position.line, position.col)
    assert found == expected, text
