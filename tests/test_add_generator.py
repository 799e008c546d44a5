"""docs/architecture.md, "How to add a generator": a new folder and one registry line are all a
generator kind needs. Throwaway generators in a temporary package build, verify and preview."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import webdataset as wds

import synthc
from synthc import api, generators
from synthc.errors import BuildError, SpecError

COUNTER = '''
"""The counter generator: sample i is i * step."""

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from synthc.generators.base import Column, GeneratorConfig, Table, TableGenerator


class CounterConfig(GeneratorConfig):
    kind: Literal["counter"] = Field(description="Generator kind.")
    step: int = Field(1, ge=1, description="What each sample adds.")


class CounterGenerator(TableGenerator[CounterConfig]):
    kind: ClassVar[str] = "counter"
    Config: ClassVar[Any] = CounterConfig

    def columns(self, config: CounterConfig) -> list[Column]:
        return [Column("value", "int64", f"the sample index times {config.step}")]

    def generate(self, config: CounterConfig, seed: int, start: int, stop: int) -> Table:
        return {"value": np.arange(start, stop, dtype=np.int64) * config.step}


GENERATOR = CounterGenerator()
'''

SQUARES = '''
"""The squares generator: sample i is a grey square of level i % 256, with its level as label."""

import io
from typing import Any, ClassVar, Literal

import numpy as np
from PIL import Image
from pydantic import Field

from synthc.generators.base import Column, FileGenerator, GeneratorConfig, Samples


class SquaresConfig(GeneratorConfig):
    kind: Literal["squares"] = Field(description="Generator kind.")
    size: int = Field(8, ge=1, le=64, description="Side in pixels.")


def _png(level: int, size: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((size, size), level, np.uint8), "L").save(buffer, format="PNG")
    return buffer.getvalue()


class SquaresGenerator(FileGenerator[SquaresConfig]):
    kind: ClassVar[str] = "squares"
    Config: ClassVar[Any] = SquaresConfig

    def columns(self, config: SquaresConfig) -> list[Column]:
        return [
            Column("png", "image/png", f"{config.size} px grey square"),
            Column("cls", "int (text)", "its grey level"),
        ]

    def generate(self, config: SquaresConfig, seed: int, start: int, stop: int) -> Samples:
        return Samples(
            (f"{i:012d}", {"png": _png(i % 256, config.size), "cls": str(i % 256).encode()})
            for i in range(start, stop)
        )


GENERATOR = SquaresGenerator()
'''


@pytest.fixture
def add_kind(tmp_path, monkeypatch, request):
    """Write a generator folder into a temporary package and add its one registry line."""
    root = tmp_path / "plugins"
    monkeypatch.syspath_prepend(str(root))

    def add(kind: str, source: str) -> None:
        module = f"throwaway_{kind}"
        folder = root / module
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text(source)
        importlib.invalidate_caches()
        request.addfinalizer(lambda: sys.modules.pop(module, None))
        monkeypatch.setitem(generators.KINDS, kind, module)  # the one registry line

    return add


def _spec(tmp_path, name: str, generator: str, samples: int) -> str:
    """A spec whose ``generator:`` mapping holds the lines of ``generator`` (from line 7)."""
    lines = [
        "synthc: 1",
        f"name: {name}",
        "seed: 7",
        f"samples: {samples}",
        "splits: {train: 0.75, test: 0.25}",
        "generator:",
        *(f"  {line}" for line in generator.splitlines()),
        "output:",
        "  shard_size: 30",
    ]
    path = tmp_path / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_a_table_generator_is_a_folder_and_one_line(add_kind, tmp_path):
    add_kind("counter", COUNTER)
    spec = _spec(tmp_path, "counted", "kind: counter\nstep: 3", 100)

    variants = api.schema()["properties"]["generator"]["oneOf"]
    assert "CounterConfig" in [v.get("title") for v in variants]
    result = api.build(spec, tmp_path / "out", workers=1)
    assert api.verify(result.out) == 4  # 75 + 25 rows in shards of 30
    frame = pl.read_parquet(result.out / "*" / "*.parquet").sort("index")
    assert frame["value"].to_list() == [3 * i for i in range(100)]
    manifest = api.load_manifest(result.out)
    assert manifest["generator"]["kind"] == "counter"
    assert [c["name"] for c in manifest["schema"]["columns"]] == ["index", "value"]
    assert "value" in (result.out / "README.md").read_text()
    assert (result.out / "preview.png").read_bytes().startswith(b"\x89PNG")

    again = api.build(spec, tmp_path / "out", workers=1)
    assert again.up_to_date

    preview = api.write_preview(spec, tmp_path / "counter.png")
    assert preview.samples == 100
    assert (tmp_path / "counter.png").read_bytes().startswith(b"\x89PNG")


def test_a_file_generator_is_a_folder_and_one_line(add_kind, tmp_path):
    add_kind("squares", SQUARES)
    spec = _spec(tmp_path, "squares", "kind: squares\nsize: 4", 40)

    result = api.build(spec, tmp_path / "out", workers=1)
    api.verify(result.out)
    tars = sorted(str(p) for p in result.out.rglob("*.tar"))
    samples = {s["__key__"]: s for s in wds.WebDataset(tars, shardshuffle=False)}
    assert sorted(int(k) for k in samples) == list(range(40))
    assert samples["000000000017"]["cls"] == b"17"
    assert api.load_manifest(result.out)["output"]["format"] == "webdataset"

    preview = api.write_preview(spec, tmp_path / "squares.png")
    assert preview.samples == 16  # an image preview shows 16 samples unless told otherwise
    assert api.preview(spec, samples=4) == api.preview(spec, samples=4)


def test_spec_mistakes_in_a_new_kind_carry_positions(add_kind, tmp_path):
    add_kind("counter", COUNTER)
    spec = _spec(tmp_path, "counted", "kind: counter\nstpe: 3", 10)
    with pytest.raises(SpecError) as error:
        api.validate(spec)
    (problem,) = error.value.problems
    assert problem.position is not None and problem.position.line == 8
    assert "unknown field 'stpe'" in problem.message and "step" in problem.message


def test_the_registry_lists_the_new_kind_only_while_registered(add_kind):
    assert "counter" not in generators.kinds()
    add_kind("counter", COUNTER)
    assert "counter" in generators.kinds()
    counter = generators.get("counter")
    table = counter.generate(counter.Config(kind="counter", step=2), 0, 2, 4)
    assert np.array_equal(table["value"], [4, 6])


def test_an_installed_package_adds_a_kind_through_the_entry_point(tmp_path, monkeypatch):
    root = tmp_path / "site"
    (root / "counter_plugin").mkdir(parents=True)
    (root / "counter_plugin" / "__init__.py").write_text(COUNTER)
    info = root / "counter_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: counter-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[synthc.generators]\ncounter = counter_plugin\n")
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    generators._installed.cache_clear()
    try:
        assert "counter" in generators.kinds()
        spec = _spec(tmp_path, "counted", "kind: counter", 10)
        assert api.plan(spec).samples == 10
    finally:
        monkeypatch.undo()  # the package is uninstalled
        generators._installed.cache_clear()
        sys.modules.pop("counter_plugin", None)
    assert "counter" not in generators.kinds()


SLIPPING = '''
"""A generator whose output is not what its columns() declare, in the way ``slip`` says."""

from typing import Any, ClassVar, Literal

import numpy as np
import polars as pl
from pydantic import Field

from synthc.generators.base import (
    Column, FileGenerator, GeneratorConfig, Samples, Table, TableGenerator,
)


class SlipConfig(GeneratorConfig):
    kind: Literal["KIND"] = Field(description="Generator kind.")
    slip: str = Field("none", description="How the output differs from the declaration.")


class SlippingTable(TableGenerator[SlipConfig]):
    kind: ClassVar[str] = "KIND"
    Config: ClassVar[Any] = SlipConfig

    def columns(self, config):
        first = {"index": "index", "twice": "level"}.get(config.slip, "value")
        return [Column(first, "int64", "v"), Column("level", "enum", "l")]

    def generate(self, config, seed, start, stop):
        n = stop - start
        value = np.arange(start, stop, dtype=np.int64)
        level = pl.Series(["a"] * n, dtype=pl.Enum(["a", "b"]))
        return {
            "none": lambda: {"value": value, "level": level},
            "extra": lambda: {"value": value, "level": level, "other": np.zeros(n)},
            "missing": lambda: {"value": value},
            "order": lambda: {"level": level, "value": value},
            "type": lambda: {"value": value.astype(np.float64), "level": level},
            "text": lambda: {"value": value, "level": pl.Series(["a"] * n)},
            "index": lambda: {"index": value, "level": level},
            "twice": lambda: {"value": value, "level": level},
        }[config.slip]()


class SlippingFiles(FileGenerator[SlipConfig]):
    kind: ClassVar[str] = "KIND"
    Config: ClassVar[Any] = SlipConfig

    def columns(self, config):
        txt = {"slash": "a/b", "empty": ""}.get(config.slip, "txt")
        return [Column(txt, "text", "t"), Column("cls", "int (text)", "c")]

    def generate(self, config, seed, start, stop):
        def made():
            stop_at = {"fewer": stop - 1, "more": stop + 1}.get(config.slip, stop)
            for i in range(start, stop_at):
                key = str(i) if config.slip == "key" else f"{i:012d}"
                txt = {"slash": "a/b", "empty": ""}.get(config.slip, "txt")
                files = {txt: b"x", "cls": str(i).encode()}
                if config.slip == "missing":
                    del files["cls"]
                if config.slip == "extra":
                    files["png"] = b""
                if config.slip == "text":
                    files["txt"] = "x"
                yield key, files
        stats = {"stats text": {"redrawn": "many"}, "stats float": {"redrawn": 1.5}}
        return Samples(made(), stats.get(config.slip, {"redrawn": np.int64(2)}))


GENERATOR = BASE()
'''


@pytest.mark.parametrize(
    ("slip", "said"),
    [
        ("extra", "made columns ['other'] its columns() do not declare"),
        ("missing", "made no column ['level']"),
        ("order", "made its columns in the order ['index', 'level', 'value']"),
        ("type", "made column 'value' of type Float64; its columns() declare int64"),
        ("text", "made column 'level' of type String; its columns() declare enum"),
        # "made its columns in the order ['index', ...]; declared: ['index', 'index', ...]"
        ("index", "declares column 'index', the column synthc writes itself (each row's global"),
        ("twice", "declares column 'level' twice in its columns(); give each column its own"),
    ],
)
def test_a_table_generator_that_makes_other_than_it_declares_fails_its_shard(
    add_kind, tmp_path, slip, said
):
    add_kind("slipt", SLIPPING.replace("KIND", "slipt").replace("BASE", "SlippingTable"))
    out = tmp_path / "out"
    good = api.build(_spec(tmp_path, "good", "kind: slipt", 10), tmp_path / "good", workers=1)
    assert pl.read_parquet(good.out / "train" / "*.parquet")["level"].dtype == pl.Enum(["a", "b"])
    with pytest.raises(BuildError) as error:
        api.build(_spec(tmp_path, "bad", f"kind: slipt\nslip: {slip}", 10), out, workers=1)
    assert f"generator 'slipt' {said}" in str(error.value)
    assert not list(out.rglob("*.parquet")) and not (out / "manifest.json").exists()


@pytest.mark.parametrize(
    ("slip", "said"),
    [
        ("key", "keyed sample 0 '0'; a tar's keys are the sample index in 12 digits"),
        ("missing", "made sample 000000000000 with files ['txt']; its columns() declare"),
        ("extra", "made sample 000000000000 with files ['cls', 'png', 'txt']"),
        ("text", "made 000000000000.txt a str, not bytes"),
        ("fewer", "made 7 of the 8 samples asked of it"),
        ("more", "made more than the 8 samples asked of it"),
        # a tar synthc verify and synthc.open refused was built
        ("slash", "declares a file 'a/b' in its columns(); a file's name is its extension"),
        ("empty", "declares a file '' in its columns(); a file's name is its extension"),
        # an internal error after the shards, and a manifest verify refuses
        ("stats text", "counted 'redrawn': 'many' in its Samples.stats; stats map names to"),
        ("stats float", "counted 'redrawn': 1.5 in its Samples.stats; stats map names to whole"),
    ],
)
def test_a_file_generator_that_makes_other_than_it_declares_fails_its_shard(
    add_kind, tmp_path, slip, said
):
    add_kind("slipf", SLIPPING.replace("KIND", "slipf").replace("BASE", "SlippingFiles"))
    good = api.build(_spec(tmp_path, "good", "kind: slipf", 10), tmp_path / "good", workers=1)
    assert len(list(synthc.open(good.out)["train"].samples())) == 8
    assert api.load_manifest(good.out)["generator"]["stats"] == {"redrawn": 4}  # np.int64 each
    # its files are not images: the preview says so (it was an internal error)
    assert (good.out / "preview.png").read_bytes().startswith(b"\x89PNG")
    assert api.preview(_spec(tmp_path, "good", "kind: slipf", 10)).startswith(b"\x89PNG")
    out = tmp_path / "out"
    with pytest.raises(BuildError) as error:
        api.build(_spec(tmp_path, "bad", f"kind: slipf\nslip: {slip}", 10), out, workers=1)
    assert f"generator 'slipf' {said}" in str(error.value)
    assert not list(out.rglob("*.tar")) and not (out / "manifest.json").exists()


@pytest.fixture
def install(tmp_path, monkeypatch):
    """Install packages whose entry points add generator kinds: ``install(name, source,
    {kind: module})`` writes module ``name`` and a distribution ``name`` 1.0 declaring them."""
    root = tmp_path / "site"
    monkeypatch.syspath_prepend(str(root))
    modules: list[str] = []

    def add(name: str, source: str, points: dict[str, str] | None = None) -> None:
        root.mkdir(exist_ok=True)
        (root / f"{name}.py").write_text(source)
        info = root / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        lines = "".join(f"{k} = {v}\n" for k, v in (points or {"counter": name}).items())
        (info / "entry_points.txt").write_text(f"[synthc.generators]\n{lines}")
        modules.append(name)
        importlib.invalidate_caches()
        generators._installed.cache_clear()

    yield add
    monkeypatch.undo()
    generators._installed.cache_clear()
    for name in modules:
        sys.modules.pop(name, None)


def _kind_problem(spec: str) -> str:
    with pytest.raises(SpecError) as error:
        api.validate(spec)
    (problem,) = error.value.problems
    assert problem.path == "generator.kind" and problem.position is not None
    return problem.message


@pytest.mark.parametrize(
    ("source", "said"),
    [
        ("import not_a_module_at_all\n", "failed to import: ModuleNotFoundError"),
        (COUNTER.replace("GENERATOR = CounterGenerator()", ""), "has no GENERATOR; it must"),
        (
            COUNTER.replace("GENERATOR = CounterGenerator()", "GENERATOR = CounterGenerator"),
            "has GENERATOR ABCMeta",
        ),
        (COUNTER.replace('kind: ClassVar[str] = "counter"', 'kind = "count"'), "is 'count'"),
        (
            COUNTER.replace('kind: Literal["counter"] = Field(description="Generator kind.")', ""),
            'its Config CounterConfig must declare kind: Literal["counter"]',
        ),
        (COUNTER.replace('Literal["counter"] =', "str ="), 'must declare kind: Literal["counter"]'),
        (COUNTER.replace('Literal["counter"] =', 'Literal["count"] ='), "as Literal['count']"),
        (
            COUNTER.replace(
                "    Config: ClassVar", "    formats = ('webdataset',)\n    Config: ClassVar"
            ),
            "its formats are ('webdataset',); a TableGenerator writes parquet only",
        ),
        (
            COUNTER.replace("    Config: ClassVar", "    preview = 'images'\n    Config: ClassVar"),
            "its preview is 'images'; a TableGenerator's is one of table, points",
        ),
    ],
)
def test_an_installed_kind_that_breaks_the_contract_is_a_spec_error_naming_it(
    install, tmp_path, source, said
):
    # A module that failed to import was an internal error; a Config without a kind Literal
    # was taken, and made every other kind's spec ambiguous in `synthc schema`.
    install("counter_plugin", source)
    message = _kind_problem(_spec(tmp_path, "counted", "kind: counter", 10))
    assert message.startswith(
        "generator kind 'counter': entry point 'counter = counter_plugin' of package "
        "counter_plugin 1.0"
    )
    assert said in message
    with pytest.raises(generators.KindError, match=re.escape(said)):
        api.schema()
    # a spec of another kind does not read the broken one
    assert api.validate(_spec(tmp_path, "roll", "kind: manifold\nshape: moons", 10))


def test_two_packages_claiming_one_kind_is_a_spec_error_naming_both(install, tmp_path):
    # The first on sys.path was used, silently: which one depended on the install order.
    install("counter_one", COUNTER)
    install("counter_two", COUNTER)
    message = _kind_problem(_spec(tmp_path, "counted", "kind: counter", 10))
    assert "'counter = counter_one' of package counter_one 1.0 and by entry point " in message
    assert "'counter = counter_two' of package counter_two 1.0; uninstall one" in message


def test_an_installed_kinds_package_version_is_in_task_keys_and_the_manifest(install, tmp_path):
    # The plugin's version was recorded nowhere: upgrading the package that makes the bytes
    # left every shard "up to date", and reproduce could not say what had changed.
    from synthc.outputs.origin import library_changes

    install("counter_plugin", COUNTER)
    spec = _spec(tmp_path, "counted", "kind: counter", 10)
    built = api.build(spec, tmp_path / "out", workers=1)
    manifest = api.load_manifest(built.out)
    assert manifest["libraries"]["counter_plugin"] == "1.0"
    assert api.build(spec, tmp_path / "out", workers=1).up_to_date
    metadata = tmp_path / "site" / "counter_plugin-1.0.dist-info" / "METADATA"
    metadata.write_text(metadata.read_text().replace("Version: 1.0", "Version: 2.0"))
    importlib.invalidate_caches()
    assert not api.build(spec, tmp_path / "out", workers=1).up_to_date
    assert library_changes(manifest) == ["counter_plugin: 1.0 at the build, 2.0 now"]


FACTS = COUNTER.replace(
    "    def generate(",
    "    def facts(self, config, seed):\n        return FACTS\n\n    def generate(",
)


def _refused_build(tmp_path: Path) -> tuple[Path, str]:
    """Build 10 samples of the installed kind ``counter`` into ``tmp_path/out``, which must fail:
    the output directory and the BuildError's message."""
    out = tmp_path / "out"
    with pytest.raises(BuildError) as error:
        api.build(_spec(tmp_path, "counted", "kind: counter", 10), out, workers=1)
    return out, str(error.value)


@pytest.mark.parametrize(
    ("facts", "said"),
    [
        ("{'levels': {1, 2}}", "generator.facts.levels: generator 'counter' made this fact a set"),
        ("{'where': object()}", "generator.facts.where: generator 'counter' made this fact a"),
        ("{'by': {1: 'a'}}", "generator.facts.by[1]: generator 'counter' made this fact a key"),
        ("[1, 2]", "generator 'counter': its facts() returned a list; it must return a dict"),
        ("{'x': [float('nan')]}", "generator.facts.x[0]: generator 'counter' made this fact a NaN"),
    ],
)
def test_facts_json_cannot_hold_fail_the_build_before_a_shard_naming_the_kind(
    install, tmp_path, facts, said
):
    # A set or an object was an internal error once every shard had been written; NaN from
    # an installed kind's facts() was blamed on "the spec's numbers".
    install("counter_plugin", FACTS.replace("return FACTS", f"return {facts}"))
    out, error = _refused_build(tmp_path)
    assert said in error
    assert not list(out.rglob("*.parquet"))


def test_numpy_scalars_in_facts_are_recorded_as_numbers(install, tmp_path):
    # np.int64 and np.bool_ (np.float64 is a float) were an internal error after the shards.
    made = "{'n': np.int64(3), 'ok': np.bool_(True), 'xs': [np.float32(0.5)]}"
    install("counter_plugin", FACTS.replace("return FACTS", f"return {made}"))
    built = api.build(_spec(tmp_path, "counted", "kind: counter", 10), tmp_path / "out", workers=1)
    facts = api.load_manifest(built.out)["generator"]["facts"]
    assert facts == {"n": 3, "ok": True, "xs": [0.5]}


@pytest.mark.parametrize(
    ("dtype", "made", "said"),
    [
        ("uint8", "np.int64", "made column 'value' of type Int64; its columns() declare uint8"),
        ("float", "np.float64", "declares column 'value' of dtype 'float' in its columns(), "),
        ("string", "np.int64", "made column 'value' of type Int64; its columns() declare string"),
    ],
)
def test_a_column_of_a_dtype_synthc_does_not_check_fails_its_shard(
    add_kind, tmp_path, dtype, made, said
):
    # Such a dtype was not checked: the manifest and the card said uint8 (or "float", which
    # Hugging Face reads as float32) of a shard holding Int64 (Float64).
    source = COUNTER.replace('"int64", f"the', f'"{dtype}", f"the').replace("np.int64)", f"{made})")
    add_kind("counter", source)
    out, error = _refused_build(tmp_path)
    assert f"generator 'counter' {said}" in error
    assert not (out / "manifest.json").exists()


def test_sample_refuses_what_a_build_refuses_and_names_a_failing_installed_kind(
    install, add_kind, tmp_path
):
    # `synthc sample` printed a row the build refuses to write (a column not of its declared
    # type), and a plugin's exception was "internal error ... please report it" (to synthc).
    add_kind("slipt", SLIPPING.replace("KIND", "slipt").replace("BASE", "SlippingTable"))
    with pytest.raises(BuildError, match="sample 3: generator 'slipt' made column 'value' of"):
        api.sample(_spec(tmp_path, "slipt", "kind: slipt\nslip: type", 10), 3)
    add_kind("slipf", SLIPPING.replace("KIND", "slipf").replace("BASE", "SlippingFiles"))
    with pytest.raises(BuildError, match="sample 3: generator 'slipf' keyed sample 3 '3'"):
        api.sample(_spec(tmp_path, "slipf", "kind: slipf\nslip: key", 10), 3)
    failing = COUNTER.replace("return {", "raise ValueError(f'boom at {start}')\n        return {")
    install("counter_plugin", failing)
    with pytest.raises(BuildError) as error:
        api.sample(_spec(tmp_path, "counted", "kind: counter", 10), 3)
    assert str(error.value) == (
        "sample 3: generator 'counter' (counter_plugin) failed: ValueError: boom at 3"
    )


def test_reproduce_says_when_only_the_generator_can_explain_a_difference(
    add_kind, tmp_path, capsys
):
    # A generator drawing from unseeded state passes verify (which re-hashes) and failed
    # reproduce with a list of hashes and no word of why.
    from synthc import cli

    unseeded = COUNTER.replace(
        "np.arange(start, stop, dtype=np.int64) * config.step",
        "np.random.default_rng().integers(0, 2**62, stop - start)",
    )
    add_kind("counter", unseeded)
    built = api.build(_spec(tmp_path, "counted", "kind: counter", 10), tmp_path / "out", workers=1)
    assert cli.main(["verify", str(built.out)]) == 0
    root = ["--root", str(tmp_path)]
    assert cli.main(["reproduce", str(built.out), "--workers", "1", "-q", *root]) == 1
    err = capsys.readouterr().err
    assert "does not reproduce: 2 of 2 shard(s) differ" in err
    assert "the generator made other bytes from the same seed, config and sample index" in err


EXTRAS = COUNTER.replace(
    "    def generate(",
    "    def extra_files(self, config, seed):\n        return EXTRAS\n\n    def generate(",
)


@pytest.mark.parametrize(
    ("extras", "said"),
    [
        ("{'notes.txt': 'text'}", "made 'notes.txt' a str, not bytes"),
        ("{'spec.yaml': b'x'}", "names 'spec.yaml', which synthc writes itself"),
        (
            "{'manifest.json': b'{}'}",
            "names 'manifest.json', which synthc writes itself",
        ),
        ("{'train': b'x'}", "names 'train', which synthc writes itself"),
        (
            "{'../up.txt': b'x'}",
            "names '../up.txt'; its files are written at the top",
        ),
        (
            "{'.synthc': b'x'}",
            "names '.synthc'; its files are written at the top",
        ),
        ("[('a', b'x')]", "returned a list; it must return a dict"),
    ],
)
def test_extra_files_synthc_cannot_write_fail_the_build_before_a_shard_naming_the_kind(
    add_kind, tmp_path, extras, said
):
    # A str was an internal error once every shard was written, and 'spec.yaml' replaced the
    # spec copy whose sha256 the manifest records.
    add_kind("counter", EXTRAS.replace("return EXTRAS", f"return {extras}"))
    out, error = _refused_build(tmp_path)
    assert f"generator 'counter': its extra_files() {said}" in error
    assert not list(out.rglob("*.parquet")) and not (tmp_path / "up.txt").exists()


def test_a_failing_installed_kind_is_named_with_its_package_in_the_build_error(install, tmp_path):
    # "building samples [0, 7) failed: ValueError: boom" did not say the plugin's code raised.
    failing = COUNTER.replace("return {", "raise ValueError(f'boom at {start}')\n        return {")
    install("counter_plugin", failing)
    with pytest.raises(BuildError) as error:
        api.build(_spec(tmp_path, "counted", "kind: counter", 10), tmp_path / "out", workers=1)
    assert str(error.value).endswith(
        "failed: ValueError: boom at 0 (generator 'counter' of package counter_plugin)"
    )


def test_the_manifest_says_synthcs_philox_only_of_kinds_that_use_it(install, tmp_path):
    # Every manifest described synthc's Philox streams, a plugin drawing from NumPy's too.
    install("counter_plugin", COUNTER)
    spec = _spec(tmp_path, "counted", "kind: counter", 10)
    rng = api.load_manifest(api.build(spec, tmp_path / "out", workers=1).out)["rng"]
    assert (
        rng["scheme"] == "not declared" and "package counter_plugin declares no rng" in rng["note"]
    )
    declared = COUNTER.replace(
        "    Config: ClassVar[Any] = CounterConfig",
        "    Config: ClassVar[Any] = CounterConfig\n    rng = {'scheme': 'none: it counts'}",
    )
    install("other_plugin", declared.replace('"counter"', '"other"'), {"other": "other_plugin"})
    spec = _spec(tmp_path, "others", "kind: other", 10)
    rng = api.load_manifest(api.build(spec, tmp_path / "out2", workers=1).out)["rng"]
    assert rng == {"scheme": "none: it counts"}


def test_a_package_claiming_a_built_in_kind_is_named_when_that_kinds_spec_fails(install, tmp_path):
    # The package's kind was ignored without a word: its author heard only that the spec
    # lacked the built-in kind's fields.
    install("manifold_plugin", COUNTER.replace('"counter"', '"manifold"'), {"manifold": "x"})
    with pytest.raises(SpecError) as error:
        api.validate(_spec(tmp_path, "counted", "kind: manifold\nstep: 3", 10))
    said = [p.message for p in error.value.problems if p.path == "generator.kind"]
    assert said == [
        "'manifold' is a built-in kind, which synthc uses; entry point 'manifold = x' of package "
        "manifold_plugin 1.0 also claims it and is not used: give the package's kind another name"
    ]
    assert api.validate(_spec(tmp_path, "moons", "kind: manifold\nshape: moons", 10))


def test_a_stream_refuses_what_a_build_refuses(add_kind, tmp_path):
    # synthc.stream, "the bytes a build writes", yielded what the build refuses to write.
    add_kind("slipt", SLIPPING.replace("KIND", "slipt").replace("BASE", "SlippingTable"))
    spec = _spec(tmp_path, "slipt", "kind: slipt\nslip: type", 10)
    with pytest.raises(ValueError, match="generator 'slipt' made column 'value' of type Float64"):
        list(synthc.stream(spec, "train"))
    add_kind("slipf", SLIPPING.replace("KIND", "slipf").replace("BASE", "SlippingFiles"))
    spec = _spec(tmp_path, "slipf", "kind: slipf\nslip: missing", 10)
    with pytest.raises(ValueError, match="generator 'slipf' made sample 000000000000 with files"):
        list(synthc.stream(spec, "train"))
    good = _spec(tmp_path, "good", "kind: slipf", 10)
    assert len(list(synthc.stream(good, "train"))) == 8


def test_an_unknown_kind_lists_the_kinds_and_asks_whether_its_package_is_installed(tmp_path):
    # Reproducing a plugin's dataset where the plugin is not installed said only "unknown
    # generator kind 'counter'".
    with pytest.raises(SpecError) as error:
        api.validate(_spec(tmp_path, "counted", "kind: zzz", 10))
    (problem,) = error.value.problems
    assert problem.message.startswith("unknown generator kind 'zzz'; the kinds here: fractal, ")
    assert problem.message.endswith(
        "(a package adds one through the entry point group synthc.generators: is it installed "
        "in this environment?)"
    )


@pytest.mark.parametrize(
    ("kind", "problem", "shown"),
    [
        ("bare", "'step must be even'", "'step must be even'"),
        ("flat", "('step', 'must be even')", "('step', 'must be even')"),
    ],
)
def test_a_config_rule_yielding_a_malformed_problem_is_named(
    add_kind, tmp_path, kind, problem, shown
):
    # A bare string was unpacked into a path and a message: "generator.s: t" (or the path
    # spelled letter by letter), pointing at no field the spec has.
    rule = f"    def semantic_problems(self):\n        yield {problem}\n\n"
    source = COUNTER.replace("\n\nclass CounterGenerator", f"\n{rule}\nclass CounterGenerator")
    add_kind(kind, source.replace('"counter"', f'"{kind}"'))
    with pytest.raises(SpecError) as error:
        api.validate(_spec(tmp_path, "counted", f"kind: {kind}", 10))
    (found,) = error.value.problems
    assert found.path == "generator.kind"
    assert found.message.startswith(
        f"generator '{kind}': its config's semantic_problems() yielded {shown}; each problem is"
    )


def _failing_squares(install) -> None:
    # a file generator: its shards run in spawned worker processes (a table generator's few
    # rows are built in this process first)
    failing = SQUARES.replace(
        "return Samples(", "raise ValueError(f'boom at {start}')\n        return Samples("
    )
    install("squares_plugin", failing, {"squares": "squares_plugin"})


@pytest.mark.parametrize("where", [["--workers", "2"], ["--executor", "dask", "--workers", "1"]])
def test_debug_shows_where_a_worker_failed_in_the_generator(install, tmp_path, cli, where):
    # --debug showed the build's own traceback only: a Dask worker's was lost (and a process
    # pool's came as a quoted _RemoteTraceback, then its exception again), so the author of an
    # installed kind could not see the line of their code that raised.
    _failing_squares(install)
    spec = _spec(tmp_path, "failing", "kind: squares", 40)
    code, _, err = cli("--debug", "build", spec, "-o", tmp_path / "out", *where)
    assert code == 1
    traced = err.split("synthc: the failed task's traceback:\n", 1)[1]
    assert 'squares_plugin.py", line ' in traced and ", in generate\n" in traced
    assert "_RemoteTraceback" not in err
    code, _, err = cli("build", spec, "-o", tmp_path / "out", *where)
    assert code == 1
    assert err.splitlines()[-1].startswith("synthc: error: ")
    # a Dask worker is named (another machine's environment may be what differs)
    on = " on Dask worker tcp://127.0.0.1:" if "dask" in where else ": ValueError"
    assert on in err and ": ValueError: boom at " in err and "Traceback" not in err
    assert "generator 'squares' of package squares_plugin" in err


def test_reproduce_on_dask_compares_the_installed_kinds_package_version(
    install, tmp_path, monkeypatch
):
    # reproduce --executor dask compared every kind's declared libraries but no installed
    # kind's package: a worker with another version of the plugin rebuilt other bytes unseen.
    from synthc import reproducing
    from synthc.executors.dask import DaskExecutor, local_versions, mismatch

    install("counter_plugin", COUNTER)
    built = api.build(_spec(tmp_path, "counted", "kind: counter", 10), tmp_path / "out", workers=1)
    given: list[DaskExecutor] = []

    def no_rebuild(*args, executor, **kwargs):
        given.append(executor)
        raise KeyboardInterrupt  # stops before any cluster is started

    monkeypatch.setattr(reproducing, "_build", no_rebuild)
    with pytest.raises(KeyboardInterrupt):
        api.reproduce(built.out, executor="dask", root=tmp_path)
    (executor,) = given
    expected = local_versions(executor.libraries)
    assert expected["counter_plugin"] == "1.0" and "numpy" in expected
    older = {**expected, "counter_plugin": "0.9"}
    assert "counter_plugin 0.9 (client: 1.0)" in (mismatch("w", expected, older) or "")
    assert "counter_plugin missing (client: 1.0)" in (
        mismatch("w", expected, {k: v for k, v in expected.items() if k != "counter_plugin"}) or ""
    )
