"""Hostile and broken spec text, templates, YAML and --var values: one line each, never a crash."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from conftest import run_synthc, spec_text

from synthc import api, limits
from synthc.compiler.templating import render_spec
from synthc.executors.dask import DaskExecutor

#: one problem per line: position or command name, then ": "; the summary line is the exception
ONE_PROBLEM = re.compile(r"^\S.*: ")


def assert_one_line_each(err: str, count: int | None = None) -> list[str]:
    """Every stderr line is one problem; no traceback, no internal error."""
    assert "Traceback" not in err and "internal error" not in err, err
    lines = [line for line in err.splitlines() if not re.match(r"^synthc: \d+ problems$", line)]
    assert lines, "no problem reported"
    for line in lines:
        assert ONE_PROBLEM.match(line), f"not one problem per line: {line!r}\n{err}"
    if count is not None:
        assert len(lines) == count, err
    return lines


# -- case 1: control characters ------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x1e", "\x7f", "\x85", "\u2028"])
@pytest.mark.parametrize("where", ["value", "key"])
def test_a_control_character_is_an_error_at_its_line_and_column(cli, write_spec, char, where):
    line = f"name: ab{char}c\n" if where == "value" else f"na{char}me: abc\n"
    path = write_spec(spec_text().replace("name: tiny\n", line))
    code, out, err = cli("validate", path)
    assert code == 2
    col = 9 if where == "value" else 3
    (message,) = assert_one_line_each(err, 1)
    assert message.startswith(f"{path}:2:{col}: control character U+{ord(char):04X} ")


def test_a_control_character_in_an_include_points_into_the_include(cli, write_spec, tmp_path):
    (tmp_path / "part.yaml").write_text("a: 1\nb: x\x07y\n")
    path = write_spec("{% include 'part.yaml' %}\n")
    code, _, err = cli("validate", path)
    assert code == 2
    (message,) = assert_one_line_each(err, 1)
    assert message.startswith(f"{tmp_path / 'part.yaml'}:2:5: control character U+0007")


def test_a_template_cannot_print_a_control_character(cli, write_spec):
    path = write_spec('a: 1\nb: "{{ "x\\x1e0:1\\x1f" }}"\n')  # also a forged line marker
    code, _, err = cli("validate", path)
    assert code == 2
    (message,) = assert_one_line_each(err, 1)
    assert message.startswith(f"{path}:2:1: the template printed a control character U+001E")


@pytest.mark.parametrize(
    ("line", "value", "char"),
    [
        ("description: \"{{ var('d') }}\"", '"a\\x00b"', "U+0000"),
        ("description: \"{{ var('d') }}\"", '"\\u2028"', "U+2028"),
        # a value the template changed on its way is no longer known by its value
        ("{% set d = var('d') %}description: \"x {{ d | upper }}\"", '"a\\x01b"', "U+0001"),
    ],
)
def test_a_var_printing_a_control_character_is_named(cli, write_spec, line, value, char):
    """A --var whose value prints U+0000 was reported without "(from --var NAME)"."""
    path = write_spec(spec_text().replace("description: a tiny test dataset", line))
    code, _, err = cli("validate", path, "--var", f"d={value}")
    assert code == 2
    assert err == (
        f"{path}:4:1: the template printed a control character {char}, not allowed in a spec "
        f"(from --var d={value})\n"
    )


# -- case 2: non-UTF-8, binary, huge and non-regular spec files ----------------------------


def test_a_non_utf8_spec_points_at_the_first_bad_byte(cli, tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(spec_text().replace("a tiny", "a t\u00e9 tiny").encode("latin-1"))
    code, _, err = cli("validate", path)
    assert code == 2
    (message,) = assert_one_line_each(err, 1)
    assert message == f"{path}:4:17: not UTF-8 text: byte 0xe9 (invalid continuation byte)"


def test_a_binary_spec_is_one_line(cli, tmp_path):
    path = tmp_path / "binary.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    code, _, err = cli("validate", path)
    assert code == 2
    (message,) = assert_one_line_each(err, 1)
    assert message.startswith(f"{path}:2:118: not UTF-8 text: byte 0x80")


def test_a_huge_spec_is_refused_before_reading_it(cli, tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as file:  # sparse: reading it whole would take gigabytes
        file.truncate(8 << 30)
    code, _, err = cli("validate", path)
    assert code == 2
    (message,) = assert_one_line_each(err, 1)
    assert "limit of 1,048,576 bytes (synthc.limits.MAX_SPEC_BYTES)" in message


def test_a_spec_that_is_a_directory_or_device_is_a_usage_error(cli, tmp_path):
    code, _, err = cli("validate", tmp_path)
    assert code == 2
    # `synthc validate specs/`: the message names the spec files in it as what to give
    assert assert_one_line_each(err, 1) == [
        f"synthc: error: cannot read spec {tmp_path}: is a directory, not a file; give the spec "
        f"files in it ({tmp_path / '*.yaml'})"
    ]
    code, _, err = cli("validate", "/dev/zero")
    assert code == 2
    assert "not a regular file" in assert_one_line_each(err, 1)[0]


def test_a_fifo_spec_never_blocks(tmp_path):
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    (tmp_path / "main.yaml").write_text("{% include 'spec.yaml' %}\n")
    result = run_synthc("validate", fifo, tmp_path / "main.yaml", timeout=60)
    assert result.returncode == 2
    # validate goes on past a spec it cannot read, so the spec that includes it is checked too
    first, second = assert_one_line_each(result.stderr, 2)
    assert "spec.yaml: is not a regular file (a FIFO, device or socket)" in first
    assert "include 'spec.yaml': is not a regular file" in second
    # included, it is named for what it is (it was "not found in the spec's directory")
    result = run_synthc("validate", tmp_path / "main.yaml", timeout=60)
    assert result.returncode == 2
    assert "include 'spec.yaml': is not a regular file" in result.stderr, result.stderr


# -- case 3 and 6: nesting depth and alias expansion ---------------------------------------


def test_deep_block_nesting_is_refused_where_the_limit_is_crossed(cli, write_spec):
    depth = 500
    text = "".join(f"{'  ' * i}k{i}:\n" for i in range(depth)) + f"{'  ' * depth}leaf\n"
    path = write_spec(text)
    code, _, err = cli("validate", path)
    assert code == 2
    (message,) = assert_one_line_each(err, 1)
    # level 101 starts on the value of key 100 (line 101, after "k99:" on line 100)
    assert message.startswith(f"{path}:101:")
    assert "limit of 100 levels (synthc.limits.MAX_YAML_DEPTH)" in message


def test_deep_flow_nesting_is_refused(cli, write_spec):
    path = write_spec("synthc: 1\nname: " + "[" * 5000 + "]" * 5000 + "\n")
    code, _, err = cli("validate", path)
    assert code == 2
    (message,) = assert_one_line_each(err, 1)
    assert message.startswith(f"{path}:2:{6 + limits.MAX_YAML_DEPTH}: ")
    assert "synthc.limits.MAX_YAML_DEPTH" in message


def test_aliases_cannot_nest_deeper_than_the_limit(cli, write_spec):
    lines = ["a0: &a0 [x]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 150)]
    path = write_spec("\n".join(lines) + "\n")
    code, _, err = cli("validate", path)
    assert code == 2
    assert "synthc.limits.MAX_YAML_DEPTH" in assert_one_line_each(err, 1)[0]


def test_an_alias_bomb_fails_fast_at_the_alias(cli, write_spec):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]")
    path = write_spec("\n".join(lines) + "\n")
    code, _, err = cli("validate", path)
    assert code == 2
    (message,) = assert_one_line_each(err, 1)
    # 66,430 nodes behind each *e on line 6: the second one crosses the limit
    assert message.startswith(f"{path}:6:11: ")
    assert "200,000 YAML nodes" in message and "synthc.limits.MAX_YAML_NODES" in message


def test_a_recursive_alias_is_a_spec_error(cli, write_spec):
    path = write_spec(
        spec_text().replace("description: a tiny test dataset", "description: &d [*d]")
    )
    code, _, err = cli("validate", path)
    assert code == 2
    assert any("description[0]: recursive alias" in line for line in assert_one_line_each(err))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "1" * 5000,
            "seed: invalid int '1111111111111111111111111111111111111...': more than 4,300 digits",
        ),
        # YAML 1.2 core has no implicit timestamps: only an explicit tag constructs a date
        ("!!timestamp 2020-13-45", "seed: invalid timestamp '2020-13-45': month must be in 1..12"),
        ("!!timestamp seven", "seed: invalid timestamp 'seven': not a valid timestamp"),
        ("!!float seven", "seed: invalid float 'seven': could not convert string to float"),
    ],
)
def test_yaml_values_python_cannot_hold_are_errors_at_the_value(cli, write_spec, value, expected):
    path = write_spec(spec_text().replace("seed: 7", f"seed: {value}"))
    code, _, err = cli("validate", path)
    assert code == 2
    assert f"{path}:5:7: {expected}" in err
    assert_one_line_each(err)


# -- case 4: every problem is one line ----------------------------------------------------


def test_keys_and_values_with_newlines_are_printed_escaped(cli, write_spec):
    text = spec_text(
        splits='{"tr\\nain": 0.8, "te\\u2028st": 0.2}', generator='kind: "mani\\nfold"'
    )
    text += '"bad\\nkey\\x1b[2J": 1\n'
    path = write_spec(text)
    code, _, err = cli("validate", path)
    assert code == 2
    lines = assert_one_line_each(err)
    # the key's path is quoted: a dot or bracket in it is not read as the path's own
    assert f"{path}:13:1: ['bad\\nkey\\x1b[2J']: unknown field 'bad\\nkey\\x1b[2J'" in lines
    assert any("unknown generator kind 'mani\\nfold'; did you mean 'manifold'?" in x for x in lines)


# -- case 5: templates are bounded in time, output and the values they build ---------------


@pytest.mark.parametrize(
    ("expression", "limit"),
    [
        ("10 ** 5000", "MAX_TEMPLATE_INT_DIGITS"),
        ("10 ** (10 ** 10)", "MAX_TEMPLATE_INT_DIGITS"),
        ("(10 ** 4000) * (10 ** 4000)", "MAX_TEMPLATE_INT_DIGITS"),
        ("'a' * 10 ** 9", "MAX_TEMPLATE_ITEMS"),
        ("[0] * 10 ** 9", "MAX_TEMPLATE_ITEMS"),
        ("lipsum(10 ** 6)", "MAX_TEMPLATE_ITEMS"),
        ("range(10 ** 9) | list", "MAX_TEMPLATE_ITEMS"),
        ("'x'.ljust(10 ** 9)", "MAX_TEMPLATE_ITEMS"),
        ("'x' | center(10 ** 9)", "MAX_TEMPLATE_ITEMS"),
        ("'%0999999999d' % 1", "MAX_TEMPLATE_ITEMS"),
        ("'%*d' % (10 ** 9, 1)", "MAX_TEMPLATE_ITEMS"),
        ("'%s' % ((['x' * 10 ** 6] * 10 ** 6),)", "MAX_TEMPLATE_ITEMS"),
        ("'%*d' | format(10 ** 9, 1)", "MAX_TEMPLATE_ITEMS"),
        ("'{:{}}'.format(1, 10 ** 9)", "MAX_TEMPLATE_ITEMS"),
        ("2 ** (10 ** 100)", "MAX_TEMPLATE_INT_DIGITS"),
        # a million copies of a million-item list, each one allowed: the total is not
        ("([[0] * 10 ** 6] * 10 ** 6) | map('list') | list", "MAX_TEMPLATE_BUILT_ITEMS"),
        ("([range(10 ** 6)] * 10 ** 6) | map('list') | list", "MAX_TEMPLATE_BUILT_ITEMS"),
        ("'{:>999999999}'.format(1)", "MAX_TEMPLATE_ITEMS"),
        ("('x' * 10 ** 6).replace('', 'yy')", "MAX_TEMPLATE_ITEMS"),
        ("(['x' * 10 ** 6] * 10 ** 6) | join", "MAX_TEMPLATE_ITEMS"),
        ("'' ~ (['x' * 10 ** 6] * 10 ** 6)", "MAX_TEMPLATE_ITEMS"),
        ("'{a:>{w}}'.format_map({'a': 1, 'w': 10 ** 9})", "MAX_TEMPLATE_ITEMS"),
        ("([[0] * 1000] * 1001) | sum(start=[])", "MAX_TEMPLATE_ITEMS"),
        ("'x' | batch(10 ** 9, 0) | list", "MAX_TEMPLATE_ITEMS"),
        ("[['x' * 10 ** 6] * 100]", "MAX_RENDERED_BYTES"),
    ],
)
def test_a_template_value_beyond_a_limit_is_an_error_at_its_line(
    cli, write_spec, expression, limit
):
    path = write_spec(f"synthc: 1\n\nname: {{{{ {expression} }}}}\n")
    code, _, err = cli("validate", path)
    assert code == 2
    (message,) = assert_one_line_each(err, 1)
    assert message.startswith(f"{path}:3:1: template: ")
    assert f"(synthc.limits.{limit})" in message


@pytest.mark.parametrize(
    ("expression", "refusal"),
    [
        ("'%.5000000f' % 1.0", "a precision of 5000000"),
        ("'%5.5000000e' | format(1.0)", "a precision of 5000000"),
        ("'%(a)5000000d' % {'a': 1}", "a width of 5000000"),
        ("'%.*f' % (5000000, 1.0)", "a width of 5000000"),
    ],
)
def test_a_percent_format_is_refused_by_its_sizes_before_it_is_built(
    cli, write_spec, expression, refusal
):
    """A precision, a width after a mapping key and a precision from the arguments are sizes
    of the text built as a width is: '%.2000000000f' % 1.0 took 4 GB before it was refused."""
    path = write_spec(f"synthc: 1\nname: {{{{ {expression} }}}}\n")
    code, _, err = cli("validate", path)
    assert code == 2
    (message,) = assert_one_line_each(err, 1)
    assert message == (
        f"{path}:2:1: template: {refusal} in a format string would exceed the limit of "
        "1,000,000 items (synthc.limits.MAX_TEMPLATE_ITEMS)"
    )


@pytest.mark.parametrize(
    ("expression", "refusal"),
    [
        ("('\\t' * 100).expandtabs(20000)", "expandtabs(20000)"),
        ("('\\t' * 100).expandtabs(tabsize=20000)", "expandtabs(20000)"),
        (
            "('a ' * 2000) | wordwrap(1, wrapstring='x' * 999)",
            "|wordwrap of 4,000 characters with a wrapstring of 999",
        ),
        (
            "('a ' * 2000) | wordwrap(1, true, 'x' * 999)",
            "|wordwrap of 4,000 characters with a wrapstring of 999",
        ),
        ("('a\\n' * 2000) | indent(999)", "|indent of 2,001 lines by 999"),
        ("('a\\r' * 2000) | indent(width=999, first=true)", "|indent of 2,001 lines by 999"),
        ("('a\\n' * 2000) | indent('x' * 999)", "|indent of 2,001 lines by 999"),
        ("range(100) | list | tojson(indent=20000)", "|tojson(indent=20,000) of this value"),
        ("[range(100) | list] | tojson('x' * 20000)", "|tojson(indent=20,000) of this value"),
        (
            "('a' * 2000).translate({97: 'x' * 999})",
            "translate() with a replacement of 999 characters",
        ),
        ("('{0}' * 2000).format('x' * 999)", "2,000 fields of up to 1,001 characters"),
        ("('%(a)s' * 2000) % {'a': 'x' * 999}", "2,000 fields of up to 1,006 characters"),
        ("('{0}' * 300).format(10 ** 4000)", "300 fields of up to 4,002 characters"),
    ],
)
def test_a_call_is_refused_by_the_size_it_would_build_before_building_it(
    cli, write_spec, expression, refusal
):
    """('\\t' * 1000).expandtabs(10 ** 6) built a gigabyte before its size was refused (the tab
    size alone was within the limit), and so did a long wordwrap wrapstring, an indent of many
    lines, JSON indented deep, a long translate() replacement and a format string printing a
    long argument in many fields."""
    path = write_spec(f"synthc: 1\nname: {{{{ {expression} }}}}\n")
    code, _, err = cli("validate", path)
    assert code == 2
    (message,) = assert_one_line_each(err, 1)
    assert message == (
        f"{path}:2:1: template: {refusal} would exceed the limit of 1,000,000 items "
        "(synthc.limits.MAX_TEMPLATE_ITEMS)"
    )


@pytest.mark.parametrize(
    ("template", "rendered"),
    [
        (
            "a: '{{ '%-6.2f|%%|%.*e|%5s' % (1.5, 2, 3.0, 'x') }}'\n"
            "b: '{{ '%(k)4d %(k).3f' % {'k': 7} }}'\n",
            "a: '1.50  |%|3.00e+00|    x'\nb: '   7 7.000'\n",
        ),
        ("a: '{{ 'aaa bbb ccc' | wordwrap(3, wrapstring='|') }}'\n", "a: 'aaa|bbb|ccc'\n"),
        (
            "a: |\n  {{ 'b\\nc' | indent(2) }}\n  {{ 'd\\ne' | indent('  ') }}\n",
            "a: |\n  b\n  c\n  d\n  e\n",
        ),
        ("a: {{ {'b': [1]} | tojson(indent=1) }}\n", 'a: {\n "b": [\n  1\n ]\n}\n'),
        # a long replacement of a character the text does not hold adds nothing
        (
            "a: {{ ('ab' * 2000).translate({97: 'x', 98: None, 99: 'y' * 999}) }}\n",
            "a: " + "x" * 2000 + "\n",
        ),
        ("a: {{ ('{0}' * 3).format('x' * 300000) | length }}\n", "a: 900000\n"),
        (
            "a: '{{ 'x\\ty\\t'.expandtabs(4) }}{{ 'z\\t'.expandtabs() }}'\n",
            "a: 'x   y   z       '\n",
        ),
    ],
    ids=["percent", "wordwrap", "indent", "tojson", "translate", "format", "expandtabs"],
)
def test_text_building_within_the_limits_still_works(write_spec, template, rendered):
    """The bounds put on format, wordwrap, indent, tojson, translate, str.format and
    expandtabs leave what stays within them as Jinja and Python make it."""
    assert render_spec(write_spec(template)).text == rendered


def test_a_template_integer_literal_too_long_to_read_points_at_it(cli, write_spec):
    path = write_spec("synthc: 1\nname: {{ " + "7" * 5000 + " }}\n")
    code, _, err = cli("validate", path)
    assert code == 2
    (message,) = assert_one_line_each(err, 1)
    assert message == f"{path}:2:10: template: an integer literal of more than 4,300 digits"


def test_doubling_a_string_in_a_loop_is_stopped(cli, write_spec):
    path = write_spec(
        "synthc: 1\n{% set ns = namespace(s='ab') %}\n{% for i in range(64) %}\n"
        "{% set ns.s = ns.s ~ ns.s %}\n{% endfor %}\nname: x\n"
    )
    code, _, err = cli("validate", path)
    assert code == 2
    (message,) = assert_one_line_each(err, 1)
    assert message.startswith(f"{path}:4:1: template: ") and "MAX_TEMPLATE_ITEMS" in message


def test_rendered_output_is_bounded(cli, write_spec):
    path = write_spec("a: 1\n{% for i in range(100000) %}\n- {{ 'x' * 1000 }}\n{% endfor %}\n")
    code, _, err = cli("validate", path)
    assert code == 2
    (message,) = assert_one_line_each(err, 1)
    assert message.startswith(f"{path}:3:1: template: the rendered spec would be larger")
    assert "(synthc.limits.MAX_RENDERED_BYTES)" in message


@pytest.mark.parametrize(
    "body",
    [
        # the range steps check the deadline
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        # no range, no operator: only the timer in the main thread stops this one
        "{% set xs = 'x' * 100000 %}{% for i in xs %}{% for j in xs %}{% endfor %}{% endfor %}",
    ],
)
def test_rendering_is_bounded_in_time(cli, write_spec, monkeypatch, body):
    monkeypatch.setattr(limits, "MAX_TEMPLATE_SECONDS", 0.5)
    path = write_spec(f"synthc: 1\n\n{body}\nname: x\n")
    code, _, err = cli("validate", path)
    assert code == 2
    (message,) = assert_one_line_each(err, 1)
    assert message.startswith(f"{path}:3:1: template: rendering took more than 0.5 s of CPU")
    assert "(synthc.limits.MAX_TEMPLATE_SECONDS)" in message


def test_lipsum_and_random_are_deterministic(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "a: {{ lipsum(3, html=False) | tojson }}\nb: {{ range(10 ** 6) | random }}\n"
        "c: {{ (['x', 'y', 'z'] * 9) | map('random') | list }}\n"
    )
    texts = {render_spec(path).text for _ in range(8)}
    assert len(texts) == 1 and len(next(iter(texts))) > 100


def test_ordinary_templates_still_work(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "a: {{ 2 ** 10 }}\nb: {{ 'ab' ~ 3 ~ 'c' }}\nc: {{ [1, 2] + [3] }}\n"
        "d: {{ '%05.1f' % 3.14159 }}\ne: {{ '{:>4}'.format(7) | tojson }}\n"
        "f: {{ range(2, 10, 3) | list }}\ng: {{ 7 // 2 }} {{ 7 % 3 }} {{ -2 ** 3 }}\n"
        "h: {{ range(5)[1:3] | list }}\nj: {{ 3 in range(5) }} {{ range(4) | length }}\n"
        "i: {{ ['x', 'y'] | join('-') }} {{ 'aXa' | replace('X', 'b') }}\n"
        "k: {{ (range(3) | list) == range(3) }} {{ range(3) == range(0, 3) }}\n"
        "l: {{ [[1], [2]] | sum(start=[]) }}\n"
        "m: {{ '%d' % 10 ** 9 }} {{ '{}'.format(10 ** 9) }} {{ '%d' | format(10 ** 9) }}\n"
        "n: {{ 'a b c'.split(' ', 10 ** 9) | length }} {{ 'xy' | truncate(10 ** 9) }}\n"
        "o: {{ ['id: 12345678 %s' % 1, 'id: 12345678 {}'.format(2)] }}\n"
    )
    from synthc.compiler.loading import load_spec

    assert load_spec(path).data == {
        "a": 1024,
        "b": "ab3c",
        "c": [1, 2, 3],
        "d": 3.1,
        "e": "   7",
        "f": [2, 5, 8],
        "g": "3 1 -8",
        "h": [1, 2],
        "j": "true 4",
        "i": "x-y aba",
        "k": "false true",
        "l": [1, 2],
        "m": "1000000000 1000000000 1000000000",
        "n": "3 xy",
        "o": ["id: 12345678 1", "id: 12345678 2"],
    }


# -- case 7: hostile --var values -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("&a [*a]", "--var x: recursive alias"),
        ("[" * 1000 + "]" * 1000, "--var x: nested deeper than the limit of 100 levels"),
        (
            "[&a [0,0,0,0,0,0,0,0,0,0], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a],"
            " &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c],"
            " &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d], &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]]",
            "--var x: more than the limit of 200,000 YAML nodes",
        ),
        (
            "!!timestamp 2020-13-45",
            "--var x: invalid timestamp '2020-13-45': month must be in 1..12",
        ),
        ("a\x07b", "--var x: control character U+0007 is not allowed"),
        ("x" * (limits.MAX_SPEC_BYTES + 1), "--var x: the value is larger than the limit"),
    ],
    ids=["self-reference", "deep", "alias-bomb", "bad-date", "control", "huge"],
)
def test_a_hostile_var_is_a_usage_error_naming_it(cli, write_spec, value, expected):
    path = write_spec(spec_text().replace("description: a tiny test dataset", "description: x"))
    code, out, err = cli("validate", "--var", f"x={value}", path)
    assert code == 2 and out == ""
    (message,) = assert_one_line_each(err, 1)
    assert message.startswith(f"synthc: error: {expected}")


def test_a_var_that_is_not_yaml_is_still_its_text(cli, write_spec):
    path = write_spec(spec_text(name="{{ var('x') }}"))
    code, out, err = cli("validate", "--var", "x=[a, b", path)
    assert code == 2  # the name is the text "[a, b", which then is not YAML
    (message,) = assert_one_line_each(err, 1)
    assert message.startswith(f"{path}:2:7: YAML syntax error: ")
    assert message.endswith("to print a --var as one value (from --var x=[a, b)")


# -- case 8: Dask scheduler addresses -------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("nonsense://x", "unknown scheme 'nonsense'"),
        ("tcp://", "expected tcp://HOST:PORT"),
        ("tcp://host:port", "expected tcp://HOST:PORT"),
        ("tcp://host:99999", "port 99999 is not in 1..65535"),
        ("tcp://host:8786/x", "expected tcp://HOST:PORT"),
        # each was dialled for the whole connection timeout (10 s) before
        ("tcp://host:\uff18\uff17\uff18\uff16", "expected tcp://HOST:PORT"),  # fullwidth
        ("tcp://[:::::]:8786", "'[:::::]' is no IPv6 address"),
        ("tcp://[10.0.0.5]:8786", "'[10.0.0.5]' is no IPv6 address"),
        # refused before as well, without saying what would do
        ("tcp://::1:8786", "an IPv6 address goes in brackets: tcp://[::1]:8786"),
        ("fe80::2:8786", "an IPv6 address goes in brackets: tcp://[fe80::2]:8786"),
        # dialled for the connection timeout (10 s) before: no host name
        ("tcp://-x:8786", "'-x' is no host name: the label '-x' starts or ends with '-'"),
        ("tcp://a..b:8786", "'a..b' is no host name: an empty label"),
        ("tcp://.a:8786", "'.a' is no host name: an empty label"),
        ("tcp://host-.lan:8786", "the label 'host-' starts or ends with '-'"),
        ("tcp://_x:8786", "the label '_x' starts or ends with '_'"),
        ("tcp://a b:8786", "expected tcp://HOST:PORT"),
        (f"tcp://{'a' * 64}.lan:8786", "a label longer than 63 characters"),
        (f"tcp://{'a.' * 127}a:8786", "longer than 253 characters"),
        ("tcp://10.0.0.256:8786", "digits and dots, but no IPv4 address"),
        ("tcp://10.0.5:8786", "digits and dots, but no IPv4 address"),
    ],
)
def test_a_malformed_scheduler_address_is_refused_at_once(cli, write_spec, address, expected):
    path = write_spec(spec_text(samples=100, shard_size=50))
    code, _, err = cli("build", path, "-o", path.parent / "out", "--scheduler", address)
    assert code == 2
    (message,) = assert_one_line_each(err, 1)
    # said before connecting: a connection attempt ends in "cannot reach the Dask scheduler"
    assert message.startswith(f"synthc: error: --scheduler {address!r}: ") and expected in message
    assert not (path.parent / "out").exists()


@pytest.mark.parametrize(
    "address",
    [
        "tcp://10.0.0.5:8786",
        "10.0.0.5:8786",
        "tls://[::1]:1",
        "[::ffff:10.0.0.5]:8786",
        "tcp://localhost:8786",
        "tcp://dask-scheduler.cluster.local:8786",
        "tcp://node01.example.org.:8786",
        "tcp://dask_scheduler:8786",  # Docker Compose service names
        "tcp://3com.example:8786",
    ],
)
def test_well_formed_scheduler_addresses_are_accepted(address):
    assert DaskExecutor(address).address == address


# -- case 9: the last-resort guard ----------------------------------------------------------


def test_an_unexpected_exception_is_one_line_internal_error(cli, write_spec, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(api, "validate", broken)
    path = write_spec(spec_text())
    code, _, err = cli("validate", path)
    assert code == 1
    assert err == (
        "synthc: internal error: RuntimeError: boom\\nsecond line "
        "(run with --debug for the traceback; please report it)\n"
    )
    code, _, err = cli("--debug", "validate", path)
    assert code == 1 and "Traceback" in err and "internal error: RuntimeError" in err


def test_keyboard_interrupt_still_exits_130(cli, write_spec, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "validate", interrupted)
    code, _, err = cli("validate", write_spec(spec_text()))
    assert code == 130 and "interrupted" in err


def test_the_console_script_prints_no_traceback_for_a_control_character(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"synthc: 1\nname: \x1b[31mred\n")
    result = subprocess.run(
        [sys.executable, "-m", "synthc", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert_one_line_each(result.stderr, 1)
