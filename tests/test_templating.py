"""Templating and YAML loading: values, loops, includes, sandbox, and positions that point home."""

from __future__ import annotations

import pytest
from conftest import spec_text

import synthc
from synthc.compiler.compiling import compile_spec
from synthc.compiler.loading import load_spec
from synthc.compiler.templating import render_spec
from synthc.compiler.variables import parse_var_assignments
from synthc.errors import SpecError, UsageError


def problem(error: pytest.ExceptionInfo[SpecError]):
    assert len(error.value.problems) == 1
    return error.value.problems[0]


def test_plain_yaml_positions(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("a: 1\nb:\n  c: [x, y]\n  d:\n    - 5\n")
    loaded = load_spec(spec, display_path="s.yaml")
    assert loaded.data == {"a": 1, "b": {"c": ["x", "y"], "d": [5]}}
    assert str(loaded.position_of(("b", "c", 1))) == "s.yaml:3:10"
    assert str(loaded.position_of(("b", "d", 0))) == "s.yaml:5:7"
    assert str(loaded.position_of(("b", "c"), prefer_key=True)) == "s.yaml:3:3"
    assert str(loaded.position_of(("b", "nope", 3))) == "s.yaml:3:3"  # nearest known ancestor


def test_vars_defaults_overrides_and_yaml_typing(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "n: {{ var('n', 1000) }}\nf: {{ var('f', 1) }}\nb: {{ var('b', false) }}\n"
        "xs: {{ var('xs', []) }}\ns: {{ var('s', 'x') }}\nnone: {{ None }}\n"
    )
    assert load_spec(spec).data == {"n": 1000, "f": 1, "b": False, "xs": [], "s": "x", "none": None}
    given = parse_var_assignments(["n=5", "f=0.5", "b=true", "xs=[1, 2]", "s=hello"])
    assert given == {"n": 5, "f": 0.5, "b": True, "xs": [1, 2], "s": "hello"}
    assert load_spec(spec, given).data == {**given, "none": None}


def test_unset_variable_without_default_points_at_the_call(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("a: 1\nb: {{ var('size') }}\n")
    with pytest.raises(SpecError) as error:
        render_spec(spec, display_path="s.yaml")
    found = problem(error)
    assert (found.position.file, found.position.line) == ("s.yaml", 2)
    assert "'size'" in found.message and "--var size=" in found.message


def problem_of_line_two(tmp_path, expression: str):
    """The one problem of rendering a spec whose line 2 prints ``expression``, placed there."""
    spec = tmp_path / "s.yaml"
    spec.write_text(f"a: 1\nb: {{{{ {expression} }}}}\n")
    with pytest.raises(SpecError) as error:
        render_spec(spec, display_path="s.yaml")
    found = problem(error)
    assert found.position.line == 2
    return found


@pytest.mark.parametrize("read", ["vars.size", "vars['size']", "vars.size + 1"])
def test_unset_variable_read_through_vars_is_named_as_var_names_it(tmp_path, read):
    found = problem_of_line_two(tmp_path, read)
    assert found.message == "variable 'size' is not set; pass --var size=VALUE"
    spec = tmp_path / "s.yaml"
    spec.write_text("a: {{ vars.size is defined }}\nb: {{ vars.get('size', 3) }}\n")
    assert load_spec(spec).data == {"a": False, "b": 3}


@pytest.mark.parametrize(
    "call", ["var()", "var(1)", "var('n', 1, 2)", "var('n', size=1)", "var(default=3)"]
)
def test_a_var_call_of_another_shape_says_how_var_is_called(tmp_path, call):
    found = problem_of_line_two(tmp_path, call)
    assert "takes a variable name in quotes and an optional default" in found.message
    assert "VarReads" not in found.message and "TypeError" not in found.message


def test_var_takes_its_name_and_default_by_keyword_too(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("a: {{ var(name='n', default=2) }}\nb: {{ var('m', default=3) }}\n")
    assert load_spec(spec).data == {"a": 2, "b": 3}
    assert load_spec(spec, {"n": 5}).data == {"a": 5, "b": 3}


def test_loop_lines_map_to_the_loop_body(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("items:\n{% for i in range(4) %}\n  - {{ i * 10 }}\n{% endfor %}\nafter: 1\n")
    loaded = load_spec(spec, display_path="s.yaml")
    assert loaded.data == {"items": [0, 10, 20, 30], "after": 1}
    for i in range(4):
        assert loaded.position_of(("items", i)).line == 3
    assert loaded.position_of(("after",)).line == 5


def test_include_positions_refer_to_the_included_file(tmp_path):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "part.yaml").write_text("x: 1\ny: {{ var('y', 2) }}\n")
    spec = tmp_path / "specs" / "main.yaml"
    spec.write_text("top: 0\n{% include 'part.yaml' %}\nz: 3\n")
    loaded = load_spec(spec, display_path="specs/main.yaml")
    assert loaded.data == {"top": 0, "x": 1, "y": 2, "z": 3}
    assert str(loaded.position_of(("y",))) == "specs/part.yaml:2:4"
    assert str(loaded.position_of(("z",))) == "specs/main.yaml:3:4"
    (tmp_path / "specs" / "part.yaml").write_text("x: 1\ny: {{ missing }}\n")
    with pytest.raises(SpecError) as error:
        load_spec(spec, display_path="specs/main.yaml")
    found = problem(error)
    assert (found.position.file, found.position.line) == ("specs/part.yaml", 2)
    assert found.message == "undefined variable 'missing'"


def test_an_included_file_saved_with_a_byte_order_mark_reads_as_its_text(tmp_path):
    """A template a Windows editor saved (UTF-8 with a BOM) made its first key '\\ufeffx':
    'unknown field ...; did you mean ...?'. The spec's own BOM was always skipped by YAML."""
    (tmp_path / "part.yaml").write_bytes("\ufeffx: 1\ny: 2\n".encode())
    spec = tmp_path / "main.yaml"
    spec.write_bytes("\ufefftop: 0\n{% include 'part.yaml' %}\n".encode())
    loaded = load_spec(spec, display_path="main.yaml")
    assert loaded.data == {"top": 0, "x": 1, "y": 2}
    assert str(loaded.position_of(("x",))) == "part.yaml:1:4"  # columns as an editor shows


@pytest.mark.parametrize("target", ["../outside.yaml", "/etc/hostname"])
def test_includes_outside_the_spec_directory_are_refused(tmp_path, target):
    (tmp_path / "outside.yaml").write_text("secret: 1\n")
    (tmp_path / "specs").mkdir()
    spec = tmp_path / "specs" / "main.yaml"
    spec.write_text(f"a: 1\n{{% include '{target}' %}}\n")
    with pytest.raises(SpecError) as error:
        load_spec(spec, display_path="main.yaml")
    found = problem(error)
    assert found.position.line == 2 and "outside" in found.message


def test_missing_include_is_a_spec_error(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("{% include 'nope.yaml' %}\n")
    with pytest.raises(SpecError, match="not found"):
        load_spec(spec)


def test_an_include_naming_a_directory_says_so(tmp_path):
    """It said "include 'parts' not found in the spec's directory", beside a folder 'parts'."""
    (tmp_path / "parts").mkdir()
    spec = tmp_path / "s.yaml"
    spec.write_text("{% include 'parts' %}\n")
    with pytest.raises(SpecError) as error:
        load_spec(spec, display_path="s.yaml")
    assert problem(error).message == "include 'parts': parts is a directory; name a file in it"


def test_sandbox_blocks_attribute_escapes(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("a: 1\nb: {{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    with pytest.raises(SpecError) as error:
        load_spec(spec)
    found = problem(error)
    assert found.position.line == 2 and "sandbox" in found.message


def test_template_syntax_and_undefined_errors_have_lines(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("a: 1\nb: 2\n{% for x in %}\n{% endfor %}\n")
    with pytest.raises(SpecError) as error:
        load_spec(spec)
    found = problem(error)
    assert found.position.line == 3 and found.message.startswith("template syntax error")
    spec.write_text("a: 1\nb: {{ nothing }}\n")
    with pytest.raises(SpecError) as error:
        load_spec(spec)
    assert problem(error).position.line == 2
    assert problem(error).message == "undefined variable 'nothing'"


def test_yaml_errors_duplicates_merges_and_empty_files(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("a: 1\nb: 2\na: 3\n")
    loaded = load_spec(spec)  # the compiler reports it with the spec's other problems
    assert loaded.data == {"a": 3, "b": 2}  # the later entry, as in YAML
    (found,) = loaded.duplicates
    assert found.position.line == 3 and "duplicate key 'a' (first at line 1)" in found.message
    spec.write_text("a: 1\nb: !!bogus 2\na: 3\n")
    with pytest.raises(SpecError) as error:  # with a problem that ends the parse: both, in order
        load_spec(spec)
    assert [p.position.line for p in error.value.problems] == [2, 3]
    with pytest.raises(UsageError, match="duplicate key 'a'"):  # a --var value: refused at once
        parse_var_assignments(["x={a: 1, a: 2}"])
    spec.write_text("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 5\n")
    assert load_spec(spec).data["use"] == {"x": 1, "y": 5}
    spec.write_text("a: 1\nb: [1, 2\nc: 3\n")
    with pytest.raises(SpecError) as error:
        load_spec(spec)
    assert problem(error).message.startswith("YAML syntax error")
    assert problem(error).position.line in (2, 3)
    spec.write_text("")
    assert load_spec(spec).data is None


def test_columns_are_clamped_to_the_source_line(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("a: {{ 'x' * 50 }}\nb: x\n")
    rendered = render_spec(spec, display_path="s.yaml")
    # inside a printed value: the start of the expression that printed it
    assert rendered.position(0, 40).col == len("a: ") + 1
    assert rendered.position(1, 40).col == len("b: x")


def test_var_assignment_errors_and_edge_cases(tmp_path):
    for bad in ("noequals", "=1", "not a name=1"):
        with pytest.raises(UsageError):
            parse_var_assignments([bad])
    assert parse_var_assignments(["k=a=b", "e="]) == {"k": "a=b", "e": ""}
    with pytest.raises(UsageError, match="not found"):
        render_spec(tmp_path / "missing.yaml")


def test_loaded_names_the_var_a_value_came_from(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("n: {{ var('n', 1) }}\nm: {{ 2 }}\n")
    loaded = load_spec(spec, parse_var_assignments(["n=1e3"]))
    assert loaded.var_origin(("n",)) == "--var n=1e3"
    assert loaded.var_origin(("m",)) is None
    assert load_spec(spec).var_origin(("n",)) is None


_ONE_VALUE = "write {{ var('d') | tojson }} to print a --var as one value"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        # Observed: a top-level `splits:` was injected; 'a, b # c' became 'a, b'; the syntax
        # error of '[1, 2' named no --var; 'a: b' was refused without a way out.
        ("x\nsplits: {train: 0.5, test: 0.5}", "YAML reads 'x\\nsplits: {train: 0.5, test: 0.5}'"),
        ("'a, b # c'", "YAML reads 'a, b # c', printed here, as 'a, b'; "),
        ("[1, 2", "YAML syntax error: "),
        ("'a: b'", "YAML syntax error: mapping values are not allowed here, in 'a: b' "),
        ("' x '", "YAML reads ' x ', printed here, as 'x'; "),
        ("'*a'", "YAML syntax error: found undefined alias 'a', in '*a' "),
        ("'[]'", "YAML does not read '[]', printed here, as text; "),
    ],
)
def test_a_text_var_printed_must_read_back_as_one_value(tmp_path, value, says):
    spec = tmp_path / "s.yaml"
    spec.write_text("name: s\ndescription: {{ var('d', 'x') }}\nsamples: 4\n")
    with pytest.raises(SpecError) as error:
        load_spec(spec, parse_var_assignments([f"d={value}"]), display_path="s.yaml")
    found = problem(error)
    assert str(found.position) == "s.yaml:2:14"  # the {{ }} that printed it
    assert found.position.origin == f"--var d={value}"
    assert found.message.startswith(says) and found.message.endswith(_ONE_VALUE)


@pytest.mark.parametrize(
    ("printed", "value", "expected"),
    [
        ("{{ var('d') | tojson }}", "'a: b'", "a: b"),
        ("{{ var('d') | tojson }}", "x\nsplits: {a: 1}", "x\nsplits: {a: 1}"),
        ("\"{{ var('d') }}\"", "'a, b # c'", "a, b # c"),
        ("ds-{{ var('d') }}", "abc", "ds-abc"),
        ("{{ var('d') | upper }}", "abc", "ABC"),
        ("x # {{ var('d') }}", "'a # b: c'", "x"),
        ("[{{ var('d') | join(', ') }}]", "[a, b]", ["a", "b"]),  # a list var joined
        ("{{ var('d') | tojson }}", "{a: b}", {"a": "b"}),  # a mapping var as JSON
    ],
)
def test_a_var_printed_as_one_value_loads(tmp_path, printed, value, expected):
    spec = tmp_path / "s.yaml"
    spec.write_text(f"name: s\ndescription: {printed}\nsamples: 4\n")
    loaded = load_spec(spec, parse_var_assignments([f"d={value}"]))
    assert loaded.data == {"name": "s", "description": expected, "samples": 4}


def test_a_var_given_twice_with_different_values_is_refused(cli, write_spec):
    spec = write_spec(spec_text().replace("samples: 1000", "samples: {{ var('n', 1000) }}"))
    code, _, err = cli("validate", spec, "--var", "n=10", "--var", "n=20")
    assert code == 2
    assert err == "synthc: error: --var n: given twice, '10' then '20'; give each variable once\n"
    code, out, _ = cli("validate", spec, "--var", "n=10", "--var", "n=10")  # the same: one
    assert code == 0 and out.endswith(": ok\n")


@pytest.mark.parametrize("given", ["samples=10", ["samples=10"], [("samples", 10)]])
def test_variables_that_are_not_a_mapping_are_a_usage_error(tmp_path, given):
    # synthc.stream(spec, variables="samples=10") raised dict()'s ValueError ("dictionary
    # update sequence element #0 has length 1; 2 is required"), or took the pairs
    spec = tmp_path / "s.yaml"
    spec.write_text("samples: {{ var('samples', 5) }}\n")
    for make in (render_spec, compile_spec, synthc.stream):
        with pytest.raises(UsageError, match=r"variables must map each name to its value"):
            make(spec, variables=given)
