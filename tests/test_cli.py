"""The command line as users run it: exit codes, plan, schema, errors without tracebacks."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT, run_synthc, spec_text

import synthc
from synthc.cli import _parser
from synthc.errors import UsageError


def test_plan_table_and_json(cli, write_spec):
    spec = write_spec(spec_text(samples=1000, shard_size=300))
    code, out, _ = cli("plan", spec)
    assert code == 0
    assert "train/train-00002.parquet" in out and "4 shard(s), 1000 samples" in out
    code, out, _ = cli("plan", spec, "--json")
    plan = json.loads(out)
    assert plan["samples"] == 1000 and plan["shards"] == 4
    task = plan["tasks"][3]
    assert (task["split"], task["shard"], task["start"], task["stop"]) == ("test", 0, 800, 1000)
    assert len(task["key"]) == 64 and task["path"] == "test/test-00000.parquet"


def test_schema_is_json_schema_covering_generators(cli):
    code, out, _ = cli("schema")
    schema = json.loads(out)
    assert code == 0
    assert {"synthc", "name", "seed", "samples", "generator", "output"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False
    text = json.dumps(schema["properties"]["generator"]) + json.dumps(schema["$defs"])
    for shape in ("swiss_roll", "s_curve", "sphere", "torus", "helix", "moons", "circles", "blobs"):
        assert shape in text
    variants = schema["properties"]["generator"]["oneOf"]
    tabular = next(v for v in variants if "TabularConfig" in json.dumps(v))
    # one table (columns) or related tables (tables): two models of kind tabular
    shapes = [schema["$defs"][ref["$ref"].rsplit("/", 1)[1]] for ref in tabular["oneOf"]]
    assert [set(s["properties"]) & {"columns", "tables"} for s in shapes] == [
        {"columns"},
        {"tables"},
    ]
    assert {s["properties"]["kind"]["const"] for s in shapes} == {"tabular"}
    for dist in ("normal", "lognormal", "categorical", "timestamp", "sequence"):
        assert f'"const": "{dist}"' in text


def test_missing_spec_and_bad_var_are_usage_errors(cli, tmp_path):
    code, _, err = cli("validate", tmp_path / "nope.yaml")
    assert code == 2 and "nope.yaml" in err and "Traceback" not in err
    code, _, err = cli("plan", tmp_path / "nope.yaml", "--var", "novalue")
    assert code == 2


def test_verify_of_a_non_dataset_exits_1(cli, tmp_path):
    code, _, err = cli("verify", tmp_path)
    assert code == 1 and "no manifest" in err


def test_console_script_builds_and_reports(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=500, shard_size=250))
    result = run_synthc("build", spec, "-o", tmp_path / "out", "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert "built 3 shard(s)" in result.stdout
    # Not a terminal: plain progress lines, no carriage-return bar.
    assert "\r" not in result.stderr
    again = run_synthc("build", spec, "-o", tmp_path / "out")
    assert again.returncode == 0 and "up to date" in again.stdout
    bad = run_synthc("build", spec, "-o", tmp_path / "out", "--var", "x")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_workers_below_one_is_a_usage_error(cli, write_spec):
    spec = write_spec(spec_text(samples=100, shard_size=50))
    code, _, stderr = cli("build", spec, "--workers", "0")
    assert code == 2
    assert stderr.strip() == "synthc: error: --workers must be >= 1"


def test_help_names_only_options_the_command_takes(cli, capsys):
    """A command's --help never sends the user to an option it does not have (reproduce's
    --executor said "or the cluster at --scheduler"; reproduce takes no --scheduler)."""
    commands = _parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, command in commands.items():
        with pytest.raises(SystemExit):
            cli(name, "--help")
        text, _ = capsys.readouterr()
        taken = {option for action in command._actions for option in action.option_strings}
        named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", text))
        assert named <= taken, (name, named - taken)


def test_help_names_the_spec_argument_as_the_readme_does(cli, capsys):
    """Every command that takes a spec says SPEC in its usage, as the README's commands table
    does (validate said `specs`, preview and sample `spec`); validate says what it prints."""
    for name in ("build", "validate", "plan", "preview", "sample"):
        with pytest.raises(SystemExit):
            cli(name, "--help")
        usage = capsys.readouterr()[0].split("\n\n")[0]
        assert re.search(r"\bSPEC\b", usage) and not re.search(r"\bspecs?\b", usage), usage
    with pytest.raises(SystemExit):
        cli("validate", "--help")
    assert "SPEC: ok" in capsys.readouterr()[0]


def test_schema_states_bounds_in_json_schema_words(cli):
    """`synthc schema` is for editors: a bound must be JSON Schema's (minimum, exclusiveMinimum,
    ...). Optional integers (samples, output.shard_size) carried pydantic's own gt and lt, which
    a YAML language server ignores, so `samples: 0` passed the editor's check."""
    _, out, _ = cli("schema")
    schema = json.loads(out)

    def pydantic_words(node):
        if isinstance(node, dict):
            yield from ({"gt", "ge", "lt", "le"} & set(node))
            for value in node.values():
                yield from pydantic_words(value)
        elif isinstance(node, list):
            for value in node:
                yield from pydantic_words(value)

    assert not list(pydantic_words(schema))
    samples = schema["properties"]["samples"]["anyOf"][0]
    assert samples["exclusiveMinimum"] == 0 and samples["exclusiveMaximum"] == 2**53


def test_schema_offers_no_field_synthc_sets_itself(cli, write_spec, tmp_path):
    """The files a spec names are read in at compile time into ``resolved`` fields, which a
    spec may not set: an editor completing from `synthc schema` offered them, and the spec it
    helped write was refused."""
    _, out, _ = cli("schema")
    assert '"resolved"' not in out
    text = (ROOT / "specs" / "fractal_small.yaml").read_text()
    spec = write_spec(text.replace("sigma_factor}", "sigma_factor, resolved: []}"))
    code, _, err = cli("validate", spec)
    assert code == 2 and "resolved: is set by synthc, not written in a spec" in err, err


def test_several_specs_validate_past_a_failing_one_and_name_it(cli, write_spec, tmp_path):
    """validate, like build and plan, does not stop at a spec that fails (a missing file
    stopped it), and a problem with no position (an unread --var) names its spec."""
    reads = write_spec(
        spec_text(name="a").replace("samples: 1000", "samples: {{ var('n') }}"), "a.yaml"
    )
    ignores = write_spec(spec_text(name="b"), "b.yaml")
    code, out, err = cli("validate", reads, tmp_path / "nope.yaml", ignores, "--var", "n=100")
    assert code == 2
    assert out.splitlines() == [f"{reads}: ok"]
    assert "spec file not found" in err and str(tmp_path / "nope.yaml") in err
    assert f"{ignores}: --var n=100: the spec never reads 'n'" in err
    code, _, err = cli("plan", reads, ignores, "--var", "n=100")
    assert code == 2 and f"{ignores}: --var n=100: the spec never reads 'n'" in err
    code, _, err = cli("validate", ignores, "--var", "n=100")  # one spec: as before
    assert code == 2 and err.startswith("--var n=100: the spec never reads 'n'")


def test_a_removed_current_directory_is_a_usage_error(tmp_path, monkeypatch, cli):
    """A relative path, a depfile's spelling or reproduce's search met a current directory
    removed under the shell (a branch checked out without it): an internal error."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=200))
    out = tmp_path / "out"
    assert cli("build", spec, "-o", out)[0] == 0
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    for command in (
        ("build", "spec.yaml"),
        ("build", spec, "-o", out, "--depfile", tmp_path / "out.d"),
        ("reproduce", out),
    ):
        code, _, err = cli(*command)
        assert code == 2 and "internal error" not in err, err
        assert "the current directory was removed" in err


@pytest.mark.parametrize("command", ["build", "validate", "plan", "preview", "sample"])
def test_a_spec_given_as_a_url_is_refused_as_one(cli, command, tmp_path):
    # Path() made s3://bucket/spec.yaml the path s3:/bucket/spec.yaml: "spec file not found:
    # s3:/bucket/spec.yaml", a name the user never wrote
    extra = ["-i", "0"] if command == "sample" else []
    code, _, err = cli(command, "s3://user:secret@bucket/specs/x.yaml?v=1", *extra)
    assert code == 2
    assert err == (
        "synthc: error: s3://bucket/specs/x.yaml: a spec is a file on this machine, not a URL "
        "(copy it here first); a dataset built to a store is read by synthc verify, diff, "
        "reproduce or synthc.open\n"
    )
    assert not (tmp_path / "s3:").exists()


def test_stream_of_a_url_says_a_spec_is_a_file():
    import synthc

    with pytest.raises(UsageError, match=r"^gs://bucket/data: a spec is a file on this machine"):
        synthc.stream("gs://bucket/data")


@pytest.mark.parametrize(
    "options, what",
    [
        (["preview", "{spec}", "-o", "-"], "the preview PNG"),
        (["build", "{spec}", "--depfile", "-"], "the depfile"),
    ],
    ids=["preview", "depfile"],
)
def test_a_dash_for_a_file_to_write_is_refused_not_a_file_named_dash(
    options, what, cli, write_spec, tmp_path, monkeypatch, capsys
):
    """`-o -` reads as stdout: preview wrote its PNG, and build its depfile, to a file named
    '-' in the working directory (the depfile over the PNG)."""
    spec = write_spec(spec_text(samples=100))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        cli(*(part.format(spec=spec) for part in options))
    assert exit_.value.code == 2
    assert f"'-' is no stdout here: {what} is written to the file named" in capsys.readouterr().err
    assert not (tmp_path / "-").exists() and not (tmp_path / "outputs").exists()


@pytest.mark.parametrize(
    "args, usage, message",
    [
        (["bulid", "spec.yaml"], "synthc", "invalid choice: 'bulid'; did you mean 'build'?"),
        (["help", "build"], "synthc", "'help'; for help: synthc --help, or synthc COMMAND --help"),
        (["build", "spec.yaml", "--wokers", "2"], "synthc build", "did you mean --workers?"),
        (["plan", "spec.yaml", "--jsn"], "synthc plan", "--jsn; did you mean --json?"),
        (["build", "spec.yaml", "--executor", "daks"], "synthc build", "did you mean 'dask'?"),
        (
            ["build", "spec.yaml", "--debug"],
            "synthc build",
            "--debug is an option of synthc itself: give it before the command",
        ),
    ],
    ids=["command", "help", "option", "flag", "choice", "program-option"],
)
def test_a_misspelt_command_or_option_says_what_was_meant(args, usage, message, capsys):
    """A typo got argparse's bare 'invalid choice' or 'unrecognized arguments', the latter with
    synthc's own usage rather than the command's."""
    with pytest.raises(SystemExit) as exit_:
        _parser().parse_args(args)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: {usage} ")
    assert message in err.splitlines()[-1]
    assert err.splitlines()[-1].startswith(f"{usage}: error: ")


def test_an_unknown_word_gets_no_hint(capsys):
    with pytest.raises(SystemExit):
        _parser().parse_args(["build", "spec.yaml", "--foo=3"])
    assert capsys.readouterr().err.splitlines()[-1] == (
        "synthc build: error: unrecognized arguments: --foo=3"
    )


def test_an_output_that_is_a_file_says_what_o_takes(cli, write_spec, tmp_path):
    """`synthc build -o a.yaml b.yaml` takes a.yaml for the output: the error said only that
    it 'exists and is not a directory', not what -o wants."""
    first, second = write_spec(spec_text(samples=100)), write_spec(spec_text(), "b.yaml")
    for command in ("build", "plan"):
        code, out, err = cli(command, "-o", first, second)
        assert (code, out) == (2, "")
        assert err == (
            f"synthc: error: {first}: exists and is not a directory; -o takes the output "
            "directory (or leave it out: outputs/<name>)\n"
        )
    code, _, err = cli("build", second, "-o", first / "out")
    assert code == 2 and err.rstrip().endswith(
        f"{first} is not a directory; -o takes the output directory (or leave it out: "
        "outputs/<name>)"
    )


def test_a_missing_spec_names_the_spec_beside_it_it_was_likely_meant_to_be(
    cli, write_spec, tmp_path
):
    """The README's example builds specs/swiss_roll.yaml into outputs/swiss-roll: typing the
    dataset's name for the file got 'spec file not found' alone."""
    write_spec(spec_text(), "swiss_roll.yaml")
    write_spec(spec_text(), "other.yaml")
    meant = str(tmp_path / "swiss_roll.yaml")
    for typed in ("swiss-roll.yaml", "swiss_roll.yml"):
        code, _, err = cli("validate", tmp_path / typed)
        assert code == 2
        assert err == (
            f"synthc: error: spec file not found: {tmp_path / typed}; did you mean {meant!r}?\n"
        )
    code, _, err = cli("build", tmp_path / "zzz.yaml")
    assert (code, err) == (2, f"synthc: error: spec file not found: {tmp_path / 'zzz.yaml'}\n")


def test_a_missing_output_names_the_output_beside_it_it_was_likely_meant_to_be(cli, tmp_path):
    """specs/swiss_roll.yaml builds outputs/swiss-roll: `synthc verify outputs/swiss_roll`
    said only that it does not exist."""
    (tmp_path / "swiss-roll").mkdir()
    (tmp_path / "swiss_roll.preview.png").write_bytes(b"")  # a file: not an output
    for command in ("verify", "reproduce"):
        code, _, err = cli(command, tmp_path / "swiss_roll")
        assert code == 2  # a usage mistake, as in diff
        assert err == (
            f"synthc: error: {tmp_path / 'swiss_roll'}: does not exist; give the output "
            f"directory of a synthc build; did you mean {str(tmp_path / 'swiss-roll')!r}?\n"
        )
    code, _, err = cli("verify", tmp_path / "elsewhere")
    assert err.rstrip().endswith("give the output directory of a synthc build")


def test_a_store_url_typed_with_one_slash_is_refused_not_built_locally(
    cli, write_spec, tmp_path, monkeypatch, capsys
):
    """`-o s3:/bucket/x` (one slash) built into a local folder `s3:` and said so in passing."""
    spec = write_spec(spec_text(samples=100))
    monkeypatch.chdir(tmp_path)
    for command in (["build", spec, "-o", "s3:/bucket/x"], ["verify", "gs:/bucket/x"]):
        with pytest.raises(SystemExit) as exit_:
            cli(*command)
        assert exit_.value.code == 2
        typed = command[-1]
        assert (
            capsys.readouterr()
            .err.splitlines()[-1]
            .endswith(
                f"{typed}: a URL has two slashes after its scheme: did you mean "
                f"{typed.replace(':/', '://')}? (for a local path of that name: ./{typed})"
            )
        )
    assert list(tmp_path.iterdir()) == [spec]
    code, out, _ = cli("plan", spec, "-o", "./s3:/bucket/x")  # the local folder, spelled so
    assert code == 0 and "s3:/bucket/x: keep 0, build 2, remove 0" in out


def test_the_caret_under_a_terminal_excerpt_stands_under_the_column_named(
    tmp_path, monkeypatch, capsys
):
    """On a terminal each error shows its source line and a caret: it was put after one space
    per character, so a tab or a wide (CJK) character before it moved the caret left of the
    character the error names."""
    from synthc import cli as cli_module
    from synthc.errors import Position

    spec = tmp_path / "spec.yaml"
    spec.write_text("a: 1\nvalues: [北, 南]\tweights: [1]\n")
    column = spec.read_text().splitlines()[1].index("weights") + 1
    cli_module._print_excerpt(Position(str(spec), 2, column))
    source, caret = capsys.readouterr().err.splitlines()
    assert source == "    values: [北, 南]\tweights: [1]"
    # "values: [" 9 columns, each of 北 and 南 two, ", " and "]" one each, the tab kept
    assert caret == "    " + " " * 9 + "  " + "  " + "  " + " " + "\t" + "^"


def test_a_dash_for_the_spec_says_specs_are_not_read_from_stdin(cli, tmp_path, monkeypatch):
    """`cat spec.yaml | synthc validate -` said only 'spec file not found: -'."""
    monkeypatch.chdir(tmp_path)
    for command in ("validate", "plan", "build"):
        code, _, err = cli(command, "-")
        assert code == 2
        assert err == (
            "synthc: error: spec file not found: -; a spec is read from its file, not from stdin "
            "(the file's place decides what the spec may read and where its templates are): "
            "give its path\n"
        )


def test_a_missing_side_of_diff_names_the_output_or_spec_likely_meant(cli, write_spec, tmp_path):
    """`synthc diff outputs/swiss_roll specs/swiss-roll.yaml`: each side said only 'no such
    file or directory'."""
    spec = write_spec(spec_text(), "swiss_roll.yaml")
    (tmp_path / "swiss-roll").mkdir()
    for typed, meant in [("swiss_roll", "swiss-roll"), ("swiss-roll.yaml", "swiss_roll.yaml")]:
        code, _, err = cli("diff", tmp_path / typed, spec)
        assert code == 2
        assert err == (
            f"synthc: error: {tmp_path / typed}: no such file or directory; give an output "
            f"directory or a spec; did you mean {str(tmp_path / meant)!r}?\n"
        )


@pytest.mark.parametrize("fails", ["write", "flush"])
def test_a_full_disk_where_stdout_goes_is_said_not_an_internal_error(fails, monkeypatch, capsys):
    """`synthc schema > schema.json` on a full disk: 'internal error: OSError: [Errno 28] No
    space left on device ... please report it' (or, when the last of it was flushed at the
    end, a traceback)."""
    import errno
    import io
    import sys

    from synthc.cli import main

    class Full(io.StringIO):
        def write(self, text: str) -> int:
            if fails == "write":
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write(text)

        def flush(self) -> None:
            if fails == "flush":
                raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sys, "stdout", Full())
    assert main(["schema"]) == 1
    assert capsys.readouterr().err == (
        "synthc: error: cannot write the command's output: No space left on device; make room "
        "where stdout goes, or send it elsewhere\n"
    )


def test_an_unexpanded_tilde_is_refused_not_made_a_folder_named_tilde(
    cli, write_spec, tmp_path, monkeypatch, capsys
):
    """`-o "~/out"` (quoted, or from a program's argument list) built into a folder named `~`
    in the working directory, which `rm -rf ~` then removes along with the home."""
    spec = write_spec(spec_text(samples=100))
    monkeypatch.chdir(tmp_path)
    for command in (["build", spec, "-o", "~/out"], ["preview", spec, "-o", "~/p.png"]):
        with pytest.raises(SystemExit) as exit_:
            cli(*command)
        assert exit_.value.code == 2
        assert (
            capsys.readouterr()
            .err.splitlines()[-1]
            .endswith(
                f"{command[-1]}: '~' was not expanded to a home directory (it was quoted, or no "
                f"shell read it); write the home's path, or ./{command[-1]} for a file or folder "
                "named '~' here"
            )
        )
    assert list(tmp_path.iterdir()) == [spec]
    code, out, _ = cli("plan", spec, "-o", "./~/out")  # the folder named ~, spelled so
    assert code == 0 and "~/out: keep 0" in out


def test_help_names_arguments_as_the_readme_does(capsys):
    """The README writes `--workers N` and `synthc verify DIR`; --help said `--workers
    WORKERS` and `OUT`, and verify's help said nothing of what it checks or its exit codes."""
    readme = (ROOT / "README.md").read_text()
    assert "`synthc verify DIR`" in readme and "[--workers N]" in readme
    for command in ("build", "reproduce", "verify"):
        with pytest.raises(SystemExit):
            _parser().parse_args([command, "--help"])
        usage = " ".join(capsys.readouterr().out.split())
        if command == "verify":
            assert usage.startswith("usage: synthc verify [-h] DIR ")
            assert "Exit 0 when all match, 1 naming each problem" in usage
        else:
            assert "[--workers N]" in usage


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_a_spec_saved_as_utf16_says_to_save_it_as_utf8(encoding, cli, tmp_path):
    """A spec saved by Notepad or PowerShell's `>` in UTF-16: 'not UTF-8 text: byte 0xff'
    alone, which does not say what the file is or what to do."""
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(spec_text().encode(encoding))  # with its byte-order mark
    code, _, err = cli("validate", spec)
    assert code == 2
    assert err.rstrip().endswith(
        f"; the file is {encoding.upper()} (it starts with that byte-order mark): save it as UTF-8"
    )


def test_a_missing_allow_read_directory_is_said_to_be_missing(cli, write_spec, tmp_path):
    """`--allow-read data` typed before the folder was made: 'not a directory', of a path that
    does not exist, and no word of what the option takes."""
    spec = write_spec(spec_text(samples=10))
    code, _, err = cli("validate", spec, "--allow-read", tmp_path / "data")
    assert (code, err) == (
        2,
        f"synthc: error: --allow-read {tmp_path / 'data'}: does not exist; give a directory the "
        "spec may read files under\n",
    )


def test_synthc_alone_lists_the_commands(capsys):
    """`synthc` with no command said only that COMMAND is required, under a usage line that
    names no command."""
    with pytest.raises(SystemExit) as exit_:
        _parser().parse_args([])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    for command in ("build", "validate", "plan", "diff", "verify", "preview", "sample"):
        assert f"\n    {command} " in err
    assert err.endswith("\nsynthc: error: give a command, one of those above\n")


def test_a_count_of_one_is_singular(cli, write_spec, tmp_path):
    spec = write_spec(spec_text(samples=1, shard_size=1, splits="{train: 1}"))
    code, out, err = cli("plan", spec)
    assert code == 0 and "1 shard(s), 1 sample (train 1)" in out, err
    out_dir = tmp_path / "out"
    code, out, err = cli("build", spec, "-o", out_dir, "--workers", "1")
    assert code == 0 and "; 1 sample in " in out, err
    assert "wrote 1 sample in 1 shard(s)" in err
    code, out, err = cli("build", spec, "-o", out_dir)
    assert code == 0 and "up to date (1 shard, 1 sample)" in out, err
    code, out, err = cli("verify", out_dir)
    assert code == 0 and out.endswith(": ok (1 shard, 1 sample verified)\n"), err
    blobs = "kind: manifold\n  shape: blobs\n  centers: 2\n  cluster_std: [1.0]"
    code, _, err = cli("validate", write_spec(spec_text(generator=blobs), "blobs.yaml"))
    assert code == 2 and "has 1 value for 2 centres" in err


@pytest.mark.parametrize("command", ["verify", "reproduce"])
def test_a_spec_or_nothing_where_an_output_is_expected_is_a_usage_error(
    cli, write_spec, tmp_path, command
):
    """As diff says of the same mistake: exit 2, not the 1 of a dataset that fails."""
    spec = write_spec(spec_text(samples=100))
    for given in (spec, tmp_path / "nowhere"):
        code, _, err = cli(command, given)
        assert code == 2 and "give the output directory" in err, (given, err)
        assert cli("diff", given, tmp_path / "nowhere")[0] == 2
    (tmp_path / "empty").mkdir()  # a directory without a manifest: no dataset, exit 1
    code, _, err = cli(command, tmp_path / "empty")
    assert code == 1 and "no manifest" in err


@pytest.mark.parametrize(
    "args",
    [
        ("build", "{spec}", "-o", ""),
        ("build", "{spec}", "--depfile", "", "--dry-run"),
        ("validate", ""),
        ("validate", "{spec}", "--templates", ""),
        ("plan", "{spec}", "--allow-read", ""),
        ("verify", ""),
        ("diff", "", "{spec}"),
        ("preview", "{spec}", "-o", ""),
        ("sample", "{spec}", "-i", "0", "-o", ""),
        ("reproduce", "{spec}", "--root", ""),
    ],
)
def test_an_empty_path_is_refused_not_the_current_directory(cli, write_spec, args, monkeypatch):
    """-o "$OUT" with OUT unset: Path("") is ".", so the build went into the working
    directory (with --force, beside the user's files), and sample wrote its files there."""
    spec = write_spec(spec_text(samples=100))
    monkeypatch.chdir(spec.parent)
    with pytest.raises(SystemExit) as stopped:
        cli(*(a.format(spec=spec) for a in args))
    assert stopped.value.code == 2
    assert sorted(p.name for p in spec.parent.iterdir()) == ["spec.yaml"]


@pytest.mark.parametrize(
    ("args", "needs"),
    [(("build", "--restat", "--dry-run"), "--depfile"), (("plan", "--force"), "-o DIR")],
)
def test_an_option_that_only_qualifies_another_is_refused_alone(cli, write_spec, args, needs):
    """Both were ignored without a word: the user believed --restat or --force in effect."""
    code, out, err = cli(args[0], write_spec(spec_text(samples=100)), *args[1:])
    assert (code, out) == (2, "") and err.startswith("synthc: error: ") and needs in err


def test_an_output_that_is_a_link_to_nothing_says_so(cli, tmp_path):
    """verify and reproduce said 'does not exist' of a link that is there."""
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    for name in ("loop", "dangling"):
        for command in ("verify", "reproduce"):
            code, _, err = cli(command, tmp_path / name)
            assert code == 2 and "is a symbolic link that leads nowhere" in err, err


def test_a_manifest_given_for_its_dataset_names_the_directory(cli, built):
    """diff read a manifest.json as a spec (22 problems of YAML fields); verify said only 'is
    not a directory'."""
    _, out = built
    manifest = out / "manifest.json"
    expected = f"synthc: error: {manifest}: is the manifest file; give its directory, {out},"
    for args in (("verify", manifest), ("reproduce", manifest), ("diff", manifest, out)):
        code, _, err = cli(*args)
        assert code == 2 and err.startswith(expected), err


@pytest.mark.parametrize("command", ["build", "reproduce"])
def test_absurd_workers_are_refused_while_parsing(command, tmp_path, capsys):
    """--workers 100000 started that many threads, processes or LocalCluster workers."""
    with pytest.raises(SystemExit) as exit_:
        _parser().parse_args([command, str(tmp_path), "--workers", "100000"])
    assert exit_.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert "argument --workers: 100000: at most 1,024 workers" in last
    assert _parser().parse_args([command, str(tmp_path), "--workers", "1024"]).workers == 1024


def test_the_api_refuses_absurd_workers_too(write_spec, tmp_path):
    from synthc import api

    spec = write_spec(spec_text(samples=100, shard_size=50))
    with pytest.raises(UsageError, match="workers=100,000: at most 1,024"):
        api.build(spec, tmp_path / "out", workers=100_000)
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_a_manifest_or_output_directory_given_as_the_spec_says_to_give_the_spec(
    cli, built, tmp_path
):
    """`synthc sample out/manifest.json` printed a screenful of spec errors about the manifest."""
    _, out = built
    copy = out / "spec.yaml"
    for args in (
        ["sample", out / "manifest.json", "-i", "1"],
        ["validate", out / "manifest.json"],
        ["sample", out, "-i", "1"],
        ["plan", out],
        ["build", out, "--dry-run"],
    ):
        code, stdout, err = cli(*args)
        what = "dataset manifest" if args[1].name == "manifest.json" else "output directory"
        assert code == 2 and stdout == "", err
        assert err == (
            f"synthc: error: {args[1]}: is a synthc {what}, not a spec; give the spec it was "
            f"built from (or the copy of it the build wrote, {copy})\n"
        )
    (tmp_path / "kept").mkdir()
    renamed = tmp_path / "kept" / "m.json"  # a copy elsewhere: no spec copy beside it to name
    renamed.write_bytes((out / "manifest.json").read_bytes())
    code, _, err = cli("validate", renamed)
    assert code == 2 and err.endswith("not a spec; give the spec it was built from\n")
    code, _, err = cli("validate", copy)
    assert code == 0, err
    # the Python API's stream compiles the spec it is given too
    for given in (out / "manifest.json", out):
        with pytest.raises(UsageError, match=r"is a synthc .*, not a spec; give the spec"):
            synthc.stream(given, "train")
