"""verify ends with the command that repairs what a rebuild can repair, and that command does."""

from __future__ import annotations

import json
import os
import re
import shlex

from conftest import run_synthc, spec_text


def hinted_command(stderr: str) -> list[str]:
    hint = stderr.splitlines()[-1]
    assert hint.startswith("to repair: run `synthc build ")
    return shlex.split(re.search(r"`synthc (build [^`]*)`", hint)[1])


def test_verify_names_the_command_that_repairs_a_shard_and_it_does(write_spec, tmp_path):
    text = spec_text(samples="{{ var('n') }}")  # type: ignore[arg-type]
    spec = write_spec(text.replace("a tiny test dataset", "{{ var('label') }}"))
    out = tmp_path / "out"
    # run where the spec is: the manifest names it relative to there (spec.source), never by
    # the absolute path of this machine
    built = run_synthc(
        "build", spec, "-o", out, "--var", "n=1000", "--var", "label=a b", cwd=tmp_path
    )
    assert built.returncode == 0, built.stderr
    shard = out / "train" / "train-00000.parquet"
    data = bytearray(shard.read_bytes())
    data[200] ^= 0xFF
    shard.write_bytes(bytes(data))

    broken = run_synthc("verify", out, cwd=tmp_path)
    assert broken.returncode == 1
    assert "Traceback" not in broken.stderr
    assert "train/train-00000.parquet: sha256" in broken.stderr
    assert broken.stderr.splitlines()[-1] == (
        f"to repair: run `synthc build {spec.name} -o {out} --var n=1000 --var 'label=a b'` "
        f"(the spec it was built from; a copy is {out}/spec.yaml); it rebuilds each file that "
        "does not match (add --force if it says up to date: a file changed without changing its "
        "size or time)"
    )
    repaired = run_synthc(*hinted_command(broken.stderr), cwd=tmp_path)
    assert repaired.returncode == 0, repaired.stderr
    assert "built 1 shard(s)" in repaired.stdout
    verified = run_synthc("verify", out)
    assert verified.returncode == 0, verified.stderr


def test_a_moved_spec_is_named_by_its_copy(write_spec, tmp_path):
    spec = write_spec(spec_text())
    out = tmp_path / "out"
    assert run_synthc("build", spec, "-o", out, "--workers", "1").returncode == 0
    spec.rename(tmp_path / "elsewhere.yaml")
    (out / "train" / "train-00000.parquet").write_bytes(b"not parquet")
    broken = run_synthc("verify", out)
    assert broken.returncode == 1
    assert broken.stderr.splitlines()[-1].startswith(
        f"to repair: run `synthc build SPEC -o {out}` (SPEC being the spec it was built from, "
        f"copied to {out}/spec.yaml)"
    )


def test_files_a_build_would_not_touch_get_no_build_hint(write_spec, tmp_path):
    """synthc never deletes a file it did not write, so a rebuild cannot repair a stray shard."""
    spec = write_spec(spec_text())
    out = tmp_path / "out"
    assert run_synthc("build", spec, "-o", out, "--workers", "1").returncode == 0
    (out / "train" / "train-00009.parquet").write_bytes(b"x")
    broken = run_synthc("verify", out)
    assert broken.returncode == 1
    assert broken.stderr.splitlines()[-1] == (
        "train/train-00009.parquet: a shard file the manifest does not list"
    )
    assert "to repair" not in broken.stderr


def test_a_fifo_where_a_shard_belongs_is_to_be_removed_first(write_spec, tmp_path, cli):
    """The build the hint named refuses to write over what it did not write: it said to run it
    alone."""
    spec = write_spec(spec_text(samples=200))
    out = tmp_path / "out"
    assert cli("build", spec, "-o", out)[0] == 0
    shard = out / "train" / "train-00000.parquet"
    shard.unlink()
    os.mkfifo(shard)
    code, _, err = cli("verify", out)
    assert code == 1
    assert err.splitlines()[-1].startswith(
        f"to repair: remove {shard} (not a regular file; synthc deletes only files it wrote), "
        "then run `synthc build "
    )
    shard.unlink()
    assert cli("build", spec, "-o", out)[0] == 0
    assert cli("verify", out)[0] == 0


def test_the_hint_names_the_copy_a_build_writes_not_the_manifests_spec_file(built, cli):
    # a planted spec.file ("../elsewhere/spec.yaml", a 5,000-character name) was refused as a
    # problem, then echoed in the hint as where the spec's copy is
    _, out = built
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["spec"]["file"] = "../elsewhere/" + "x" * 5000
    (out / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = cli("verify", out)
    assert code == 1 and "spec.file must name spec.yaml" in err, err
    hint = err.strip().splitlines()[-1]
    assert f"copied to {out}/spec.yaml)" in hint and "elsewhere" not in hint, hint
