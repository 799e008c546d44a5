"""fsspec's own configuration (``FSSPEC_*`` variables and files) that fsspec cannot use is a
usage error naming the variable or file, never showing its value."""

from __future__ import annotations

import json

import pytest
from conftest import run_synthc
from store_servers import environment, free_port

SECRET = "synthc-config-secret"


@pytest.fixture
def nowhere(monkeypatch, tmp_path):
    """AWS variables pointing at a closed loopback port, and no fsspec configuration files."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("FSSPEC_CONFIG_DIR", str(tmp_path / "fsspec"))
    return tmp_path / "fsspec"


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("FSSPEC_S3", f"{{not json {SECRET}", "FSSPEC_S3: not a JSON object"),
        ("FSSPEC_S3", f'["{SECRET}"]', "FSSPEC_S3: not a JSON object"),
        ("FSSPEC_GS", SECRET, "FSSPEC_GS: not a JSON object"),
        ("FSSPEC_S3", json.dumps({"config_kwargs": SECRET}), "config_kwargs is not a JSON"),
        ("FSSPEC_S3_CONFIG_KWARGS", "7", "(FSSPEC_S3, FSSPEC_S3_CONFIG_KWARGS or a file"),
        ("FSSPEC_S3_CONFIG_KWARGS", SECRET, "(FSSPEC_S3, FSSPEC_S3_CONFIG_KWARGS or a file"),
    ],
)
def test_a_malformed_fsspec_variable_is_a_usage_error_naming_it(
    cli, monkeypatch, nowhere, name, value, words
):
    # fsspec warned (its own file and line) and ignored the variable, or failed the first
    # request with "'str' object has no attribute 'copy'"
    monkeypatch.setenv(name, value)
    code, _, err = cli("verify", "s3://bucket/x")
    assert code == 2 and words in err, err
    assert SECRET not in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("text", [f'{{"s3": {{"key": "{SECRET}"', f'{{"s3": "{SECRET}"}}', "[1]"])
def test_a_malformed_fsspec_configuration_file_is_a_usage_error_naming_it(cli, nowhere, text):
    # fsspec's import failed on it: "internal error: JSONDecodeError"
    nowhere.mkdir()
    (nowhere / "s3.json").write_text(text)
    code, _, err = cli("verify", "s3://bucket/x")
    assert code == 2 and f"{nowhere / 's3.json'}': not a JSON object of objects" in err, err
    assert SECRET not in err and len(err.strip().splitlines()) == 1


def test_no_library_warning_is_printed(nowhere, tmp_path):
    with environment({"FSSPEC_S3": SECRET}):
        result = run_synthc("verify", "s3://bucket/x", timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("synthc: error: FSSPEC_S3: not a JSON object")
    assert "Warning" not in result.stderr and SECRET not in result.stderr
