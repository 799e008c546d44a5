"""The command line stands on the Python API alone; ``synthc preview`` compiles its spec once."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import spec_text

import synthc.cli
from synthc import api

#: what cli.py may import from synthc (docs/architecture.md, "Layers")
CLI_MAY_IMPORT = {
    "synthc",
    "synthc.api",
    "synthc.arguments",  # the command line's own argparse parser (front end, like cli.py)
    "synthc.errors",
    "synthc.progress",
    "synthc.own_process",  # what the command process sets for itself, not a way around the API
    "synthc.library_logs",  # how the command prints what libraries log, likewise
}


def test_the_cli_imports_only_the_api_errors_progress_and_exit():
    tree = ast.parse(Path(synthc.cli.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("synthc"):
            imported.add(node.module)
            if node.module == "synthc":  # from synthc import api, __version__
                imported |= {f"synthc.{a.name}" for a in node.names if a.name != "__version__"}
        elif isinstance(node, ast.Import):
            imported |= {a.name for a in node.names if a.name.startswith("synthc")}
    assert imported <= CLI_MAY_IMPORT, imported - CLI_MAY_IMPORT


def test_preview_compiles_the_spec_once(cli, write_spec, tmp_path, monkeypatch):
    calls = []
    compile_spec = api.compile_spec

    def counting(*args, **kwargs):
        calls.append(args)
        return compile_spec(*args, **kwargs)

    monkeypatch.setattr(api, "compile_spec", counting)
    spec = write_spec(spec_text())
    code, out, err = cli("preview", spec, "-n", "5", "-o", tmp_path / "p.png")
    assert code == 0, err
    assert out == f"{tmp_path / 'p.png'}: preview of 5 sample(s)\n"
    assert len(calls) == 1
