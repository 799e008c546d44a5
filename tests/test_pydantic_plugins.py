"""The `synthc` command does not look for pydantic plugins (synthc.own_process): a user who sets
PYDANTIC_DISABLE_PLUGINS keeps the setting, and a program importing synthc keeps its plugins.

An installed distribution with a ``pydantic`` entry point is made on a path of its own; its
plugin module leaves a file behind when pydantic loads it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

LIBRARY_CALL = "import sys; from synthc.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.fixture
def plugin_site(tmp_path):
    """A directory holding a distribution with one pydantic plugin, and the file the plugin's
    import writes."""
    site = tmp_path / "site"
    info = site / "probe_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: probe-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pydantic]\nprobe = probe_plugin:plugin\n")
    marker = tmp_path / "loaded"
    (site / "probe_plugin.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "class _Plugin:\n"
        "    def new_schema_validator(self, *args, **kwargs):\n"
        "        return None, None, None\n"
        "plugin = _Plugin()\n"
    )
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "synthc: 1\nname: q\nseed: 1\nsamples: 10\ngenerator: {kind: manifold, shape: moons}\n"
    )
    return site, marker, spec


def _validate(site, spec, command, environment=None):
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(environment or {})
    done = subprocess.run(
        [sys.executable, *command, "validate", str(spec)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "ok" in done.stdout


def test_the_command_loads_no_pydantic_plugin(plugin_site):
    site, marker, spec = plugin_site
    _validate(site, spec, ["-m", "synthc"])
    assert not marker.exists()


def test_a_user_setting_is_kept(plugin_site):
    """PYDANTIC_DISABLE_PLUGINS set to nothing asks for every plugin: the command loads it
    (the probe above can see a plugin being loaded)."""
    site, marker, spec = plugin_site
    _validate(site, spec, ["-m", "synthc"], {"PYDANTIC_DISABLE_PLUGINS": ""})
    assert marker.exists()


def test_a_program_importing_synthc_keeps_its_plugins(plugin_site):
    site, marker, spec = plugin_site
    _validate(site, spec, ["-c", LIBRARY_CALL])
    assert marker.exists()


def test_the_installed_command_is_the_prepared_one():
    """The `synthc` script of pyproject.toml runs synthc.command, which prepares the process
    before it imports the command line."""
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["synthc"] == "synthc.command:main"
