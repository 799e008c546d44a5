"""JSON in an output directory is JSON: the constants NaN, Infinity and -Infinity (and numbers
beyond a double, which Python reads as infinity) are refused wherever synthc reads a manifest, a
build state, a lock or a label record (other readers refuse them: ``verify`` must not pass
them), and never written."""

from __future__ import annotations

import json
import math

import pytest
from conftest import spec_text

from synthc import api
from synthc.errors import UsageError
from synthc.outputs.manifest import encode_manifest
from synthc.outputs.state import BuildState, state_path
from synthc.outputs.store import lock_body, lock_token

NOT_JSON = [
    ("NaN", "the constant NaN"),
    ("Infinity", "the constant Infinity"),
    ("-Infinity", "the constant -Infinity"),
    ("1e999", "the number 1e999: beyond a double"),
]


@pytest.mark.parametrize("value, words", NOT_JSON)
def test_a_manifest_holding_a_non_json_number_fails_verify_in_one_line(built, cli, value, words):
    _, out = built
    path = out / "manifest.json"
    text = path.read_text()
    assert '"noise": 0.05' in text
    path.write_text(text.replace('"noise": 0.05', f'"noise": {value}'))
    code, _, err = cli("verify", out)
    assert code == 1 and "Traceback" not in err
    line = err.strip()
    assert "\n" not in line and "manifest.json: not valid JSON" in line and words in line


@pytest.mark.parametrize("value, words", NOT_JSON)
def test_a_state_holding_a_non_json_number_is_refused_and_nothing_written(built, cli, value, words):
    spec, out = built
    path = state_path(out)
    text = path.read_text()
    path.write_text(text.replace('"stats":{}', f'"stats":{{}},"note":{value}', 1))
    assert value in path.read_text()
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 1 and "Traceback" not in err
    assert "build state is not valid JSON" in err and words in err and "--force" in err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before


def test_a_lock_holding_nan_is_not_one_synthc_reads():
    body = json.loads(lock_body("t0ken"))
    assert lock_token(json.dumps(body).encode()) == "t0ken"
    assert lock_token(json.dumps({**body, "note": math.nan}).encode()) is None


def test_nothing_synthc_writes_into_an_output_holds_nan(tmp_path):
    with pytest.raises(ValueError):
        encode_manifest({"x": math.inf})
    state = BuildState(files={"README.md": "0" * 64})
    state.shards["a/b.parquet"] = {"stats": {"x": math.nan}}
    (tmp_path / ".synthc").mkdir()
    with pytest.raises(ValueError):
        state.save(tmp_path)
    assert not state_path(tmp_path).exists()


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "1e999", "[1, .nan]", "[[2, -.inf]]"])
def test_a_var_the_manifest_cannot_record_is_a_usage_error_before_anything(
    cli, write_spec, tmp_path, value
):
    # --var n=.inf was recorded as spec.vars.n: Infinity, a manifest no JSON reader took
    spec = write_spec(
        spec_text(samples=20, shard_size=20).replace(
            "description: a tiny test dataset", "description: \"n is {{ var('n', 1) }}\""
        )
    )
    out = tmp_path / "out"
    code, _, err = cli("build", spec, "-o", out, "--var", f"n={value}")
    assert code == 2 and err.strip() == (
        "synthc: error: --var n: a NaN or infinite number cannot be recorded in the manifest "
        "(JSON has none); give a finite number or a string"
    )
    assert not out.exists()
    with pytest.raises(UsageError, match="var 'n': a NaN or infinite number"):
        api.build(spec, tmp_path / "api", variables={"n": math.inf}, workers=1)
    assert cli("build", spec, "-o", out, "--var", "n=1e300")[0] == 0
    assert json.loads((out / "manifest.json").read_text())["spec"]["vars"] == {"n": 1e300}


def test_a_fact_the_manifest_cannot_record_is_a_spec_error_before_anything(
    cli, write_spec, tmp_path
):
    # the two coefficients of age sum to infinity: the build wrote every shard, then a
    # manifest holding Infinity; then it was refused as a fact; now validate names the formula
    spec = write_spec(
        "synthc: 1\nname: big\nseed: 1\nsamples: 20\nsplits: {train: 20}\n"
        "generator:\n  kind: tabular\n  columns:\n    age: {dist: normal, mean: 40, std: 12}\n"
        "  label: {name: y, kind: linear, formula: '1e308 * age + 1e308 * age'}\n"
    )
    out = tmp_path / "out"
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 2 and "Traceback" not in err
    assert err.startswith(f"{spec}:10:") and "generator.label.formula: " in err, err
    assert err.strip().endswith("keep the formula's numbers within the range of a double")
    assert cli("validate", spec)[0] == 2
    assert not any(out.rglob("*.parquet"))
