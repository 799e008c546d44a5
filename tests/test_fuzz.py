"""Fuzz `synthc validate` with mutated example specs and random bytes: exit 0 or 2, one line each.

Reproducible (derandomized) in CI. Run longer locally with SYNTHC_FUZZ_EXAMPLES=50000, and
SYNTHC_FUZZ_SEED=N for other cases; a failure prints the spec bytes that caused it.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from synthc.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = [p.read_bytes() for p in sorted((ROOT / "specs").glob("*.yaml"))]
CASES = int(os.environ.get("SYNTHC_FUZZ_EXAMPLES", "2000"))
SEED = os.environ.get("SYNTHC_FUZZ_SEED")
SUMMARY = re.compile(r"^synthc: \d+ problems$")

#: bytes that YAML, Jinja or the one-line format care about
TOKENS = [
    *(bytes([c]) for c in (0, 7, 8, 11, 12, 27, 28, 30, 31, 127)),
    *(c.encode() for c in ("\x85", "\u2028", "\u2029", "\ufeff", "\ufffe", "é")),
    b"\xff",
    b"\xc3",
    *(t.encode() for t in ("[", "]", "{", "}", ",", ":", ": ", "- ", "? ", "#", "'", '"', "|")),
    *(t.encode() for t in (">", "\n", "\r", "\t", "  ", "&a ", "*a", "<<: *a", "!!binary ")),
    *(t.encode() for t in ("!!python/object:os.system ", "!!set ", "!!timestamp ", "%YAML 1.1")),
    *(t.encode() for t in ("---\n", "...\n", "{{", "}}", "{%", "%}", "{#", "#}", "{{ x }}")),
    *(t.encode() for t in ("{{ 10 ** 5000 }}", "{% for i in range(9) %}", "{% endfor %}")),
    *(t.encode() for t in ("{% include 'x.yaml' %}", "{{ var('n') }}", '"\\x07"', '"a\\nb"')),
]
NUMBERS = [
    b"0",
    b"-1",
    b"-0",
    b"1e309",
    b"-1e309",
    b".inf",
    b"-.inf",
    b".nan",
    b"1e15",
    b"9223372036854775808",
    b"-9223372036854775809",
    b"1" * 5000,
    b"0x7fffffffffffffff",
    b"1_000",
    b"2020-13-45",
    b"3.5",
    b"true",
    b"null",
    b"~",
    b"''",
    b"[]",
    b"{}",
]
KEY = re.compile(rb"(?m)^(\s*)([A-Za-z_][A-Za-z0-9_]*):")
NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:e-?\d+)?")


@st.composite
def mutated_specs(draw: st.DrawFn) -> bytes:
    """An example spec with one to four mutations, or (sometimes) random bytes."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.binary(max_size=400))
    data = bytearray(draw(st.sampled_from(EXAMPLES)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "line", "number", "key", "number", "key"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif kind == "line":
            lines = bytes(data).split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            action = draw(st.sampled_from(["delete", "duplicate", "indent"]))
            lines[i : i + 1] = {
                "delete": [],
                "duplicate": [lines[i], lines[i]],
                "indent": [b"  " + lines[i]],
            }[action]
            data = bytearray(b"\n".join(lines))
        elif kind == "number":
            found = list(NUMBER.finditer(data))
            if found:
                match = draw(st.sampled_from(found))
                data[match.start() : match.end()] = draw(st.sampled_from(NUMBERS))
        elif kind == "key":
            found = list(KEY.finditer(data))
            if found:
                match = draw(st.sampled_from(found))
                name = match[2]
                new = draw(
                    st.sampled_from(
                        [
                            name[:-1],
                            name + b"s",
                            name.upper(),
                            b'"' + name + b'\\n"',
                            b'"' + name + b'\\x1b[2J"',
                            name + b"\xc3\xa9",
                            b"? [" + name + b"]\n" + match[1],
                            b"[" + name + b"]",
                        ]
                    )
                )
                data[match.start(2) : match.end(2)] = new
    return bytes(data)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def check_validate(path: Path, spec: bytes) -> None:
    """Validate ``path`` in this process: exit 0 or 2, no traceback, one problem per line."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", str(path)])
    out, err = out.getvalue(), err.getvalue()
    context = f"spec bytes: {spec!r}\nstderr:\n{err}"
    assert code in (0, 2), context
    assert "Traceback" not in err and "internal error" not in err, context
    if code == 0:
        assert out == f"{path}: ok\n" and err == "", context
        return
    lines = err.splitlines()
    assert lines, context
    for line in lines:
        assert SUMMARY.match(line) or re.match(r"^\S.*: ", line), f"line {line!r}\n{context}"


@settings(
    max_examples=CASES,
    derandomize=SEED is None,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@seed(int(SEED or 0))
@given(spec=mutated_specs())
def test_validate_never_crashes_and_prints_one_line_per_problem(fuzz_dir: Path, spec: bytes):
    path = fuzz_dir / "spec.yaml"
    path.write_bytes(spec)
    check_validate(path, spec)


@pytest.mark.parametrize(
    "error", [RuntimeError("a bug"), ValueError("two\nlines")], ids=["internal", "multiline"]
)
def test_the_fuzz_check_fails_on_a_bug(tmp_path: Path, monkeypatch, error: Exception):
    from synthc import api

    def broken(*args, **kwargs):
        raise error

    path = tmp_path / "spec.yaml"
    path.write_bytes(EXAMPLES[0])
    check_validate(path, EXAMPLES[0])
    monkeypatch.setattr(api, "validate", broken)
    with pytest.raises(AssertionError, match="internal error"):
        check_validate(path, EXAMPLES[0])


def test_the_fuzz_check_fails_on_a_continuation_line(tmp_path: Path, monkeypatch):
    from synthc import api
    from synthc.errors import Position, Problem, SpecError

    def two_lines(*args, **kwargs):
        raise SpecError(Problem(Position("spec.yaml", 1, 1), "field", "bad\n  a continuation"))

    path = tmp_path / "spec.yaml"
    path.write_bytes(EXAMPLES[0])
    monkeypatch.setattr(api, "validate", two_lines)
    monkeypatch.setattr("synthc.errors.one_line", lambda text: text)  # as before escaping
    with pytest.raises(AssertionError, match="line '  a continuation'"):
        check_validate(path, EXAMPLES[0])


VAR_TOKENS = ["[", "]", "{", "}", ",", ":", "&a ", "*a", "!!timestamp ", "!!int ", "- ", "\n"]
VAR_TOKENS += ["2020-13-45", "1" * 4400, "'", '"', "? ", "<<: *a", "\x07", "é", "1e999", "~"]


@settings(max_examples=CASES // 4, derandomize=SEED is None, deadline=None, database=None)
@seed(int(SEED or 1))
@given(value=st.lists(st.sampled_from(VAR_TOKENS) | st.text(max_size=5), max_size=12))
def test_var_values_parse_or_are_one_usage_error(value: list[str]):
    from synthc.compiler.variables import parse_var_assignments
    from synthc.errors import UsageError

    text = "".join(value)
    try:
        parse_var_assignments([f"x={text}"])
    except UsageError as error:
        assert str(error).startswith("--var x: "), text
