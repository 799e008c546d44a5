"""synthc plan SPEC -o DIR: per shard, what a build into DIR would do (keep, build, remove),
the same decision build --dry-run makes, from the output's (untrusted) build state."""

from __future__ import annotations

import json
import os

from conftest import spec_text

from synthc import api


def rows(stdout: str) -> dict[str, str]:
    """path -> status from plan's table."""
    found = {}
    for line in stdout.splitlines():
        fields = line.split()
        if fields and fields[0] in ("keep", "build", "remove"):
            found[fields[-2]] = fields[0]
    return found


def test_an_unchanged_spec_keeps_every_shard(built, cli):
    spec, out = built
    code, stdout, _ = cli("plan", spec, "-o", out)
    assert code == 0
    assert set(rows(stdout).values()) == {"keep"} and len(rows(stdout)) == 4
    assert stdout.splitlines()[0].split()[0] == "status"
    assert f"; {out}: keep 4, build 0, remove 0" in stdout


def test_more_samples_keep_the_equal_shards_and_build_the_rest(built, cli, write_spec):
    spec, out = built
    write_spec(spec_text(samples=1300, shard_size=300))  # train [0, 1040), test [1040, 1300)
    code, stdout, _ = cli("plan", spec, "-o", out)
    assert code == 0
    assert rows(stdout) == {
        "train/train-00000.parquet": "keep",
        "train/train-00001.parquet": "keep",
        "train/train-00002.parquet": "build",
        "train/train-00003.parquet": "build",
        "test/test-00000.parquet": "build",
    }
    dry = cli("build", spec, "-o", out, "--dry-run")[1]
    assert "would build 3 shard(s), keep 2, remove 0" in dry


def test_fewer_shards_lists_the_ones_to_remove_with_their_ranges(built, cli, write_spec):
    spec, out = built
    write_spec(spec_text(samples=1000, shard_size=300, splits="{train: 1.0}"))
    code, stdout, _ = cli("plan", spec, "-o", out, "--json")
    assert code == 0
    data = json.loads(stdout)
    statuses = {t["path"]: t["status"] for t in data["tasks"]}
    assert statuses["train/train-00000.parquet"] == "keep"
    assert statuses["train/train-00003.parquet"] == "build"
    assert data["remove"] == [
        {
            "status": "remove",
            "split": "test",
            "shard": 0,
            "start": 800,
            "stop": 1000,
            "path": "test/test-00000.parquet",
            "key": data["remove"][0]["key"],
        }
    ]
    assert data["counts"] == {"keep": 2, "build": 2, "remove": 1}
    assert data["out"] == str(out)
    table = cli("plan", spec, "-o", out)[1]
    assert rows(table)["test/test-00000.parquet"] == "remove"
    assert "[800, 1000)" in table
    dry = cli("build", spec, "-o", out, "--dry-run")[1]
    assert "would build 2 shard(s), keep 2, remove 1" in dry


def test_a_touched_shard_is_built_again(built, cli):
    spec, out = built
    shard = out / "train" / "train-00001.parquet"
    stat = shard.stat()
    os.utime(shard, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    status = api.plan_status(spec, out)
    assert [s.status for s in status.shards] == ["keep", "build", "keep", "keep"]


def test_a_new_directory_builds_everything_and_plan_writes_nothing(cli, write_spec, tmp_path):
    spec = write_spec(spec_text(samples=1000, shard_size=300))
    out = tmp_path / "fresh"
    code, stdout, _ = cli("plan", spec, "-o", out)
    assert code == 0 and set(rows(stdout).values()) == {"build"}
    assert not out.exists()


def test_plan_reads_nothing_it_must_not_and_fails_as_the_build_does(built, cli, tmp_path):
    spec, out = built
    state = out / ".synthc" / "state.json"
    before = sorted(p.name for p in out.rglob("*"))
    state.write_text('{"format": "synthc-state/1", "shards": {"../x": {}}, "files": {}}')
    code, stdout, stderr = cli("plan", spec, "-o", out)
    dry_code, _, dry_err = cli("build", spec, "-o", out, "--dry-run")
    assert code == dry_code != 0
    assert stderr.splitlines()[0] == dry_err.splitlines()[0]
    assert "Traceback" not in stderr and not stdout
    assert sorted(p.name for p in out.rglob("*")) == before


def test_another_datasets_directory_is_refused(built, cli, write_spec):
    _, out = built
    other = write_spec(spec_text(name="other"), "other.yaml")
    code, _, stderr = cli("plan", other, "-o", out)
    assert code == 2 and "holds the dataset 'tiny'" in stderr


def test_plan_force_says_what_the_build_force_its_refusals_advise_would_do(built, cli, write_spec):
    """A refusal that plan shares with the build says to rerun with --force: plan takes it too
    (it had no such option), reporting what build --force would do, and still writes nothing."""
    _, out = built
    other = write_spec(spec_text(name="other"), "other.yaml")
    stderr = cli("plan", other, "-o", out)[2]
    assert "rerun with --force to replace it" in stderr
    (out / ".synthc" / "state.json").write_text("{bad")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    code, stdout, stderr = cli("plan", other, "-o", out, "--force")
    assert code == 0, stderr
    assert set(rows(stdout).values()) == {"build"} and len(rows(stdout)) == 4
    forced = cli("build", other, "-o", out, "--dry-run", "--force")[1]
    assert "would build 4 shard(s), keep 0, remove 0" in forced
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_plan_without_out_has_no_status_column(built, cli):
    spec, _ = built
    stdout = cli("plan", spec)[1]
    assert stdout.split()[0] == "split" and not rows(stdout)
    assert "tasks" in json.loads(cli("plan", spec, "--json")[1])
    assert "remove" not in json.loads(cli("plan", spec, "--json")[1])
