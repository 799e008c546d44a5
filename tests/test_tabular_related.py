"""Related tables (issue 15 §3): a parent table and children by `rows_per_parent`, each table its
own Parquet dataset; keys resolve, counts follow their law, splits keep families together, bytes
do not depend on workers or shard cuts; the commands that read an output handle it."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

import synthc
from synthc import api
from synthc.errors import BuildError, OutputError, SpecError, UsageError
from synthc.outputs.manifest import content_sha256, encode_manifest, iter_shards
from synthc.progress import LineProgress

SPEC = """\
synthc: 1
name: shop
seed: 11
samples: {samples}
splits: {{train: 0.7, val: 0.1, test: 0.2}}
generator:
  kind: tabular
  tables:
    customers:
      columns:
        income: {{dist: lognormal, mu: 4, sigma: 0.5}}
        plan: {{dist: categorical, values: [basic, pro], weights: [0.7, 0.3]}}
      missing: {{income: 0.1}}
    orders:
      parent: customers
      rows_per_parent: {{dist: poisson, lam: 3}}
      columns:
        amount: {{dist: lognormal, mu: "1 + 0.02 * parent.income", sigma: 0.3}}
        express: {{dist: bernoulli, p: "0.1 + 0.5 * (parent.plan == 'pro')"}}
    items:
      parent: orders
      rows_per_parent: {{dist: integer, low: 0, high: 3}}
      columns:
        price: {{dist: normal, mean: "parent.amount", std: 0.5}}
output:
  shard_size: {shard_size}
"""


def write(tmp_path: Path, samples: int = 3000, shard_size: int = 400, name: str = "s") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(SPEC.format(samples=samples, shard_size=shard_size))
    return path


def tables(out: Path) -> dict[str, pl.DataFrame]:
    return {
        t: pl.read_parquet(out / t / "*" / "*.parquet") for t in ("customers", "orders", "items")
    }


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("shop")
    return api.build(write(tmp), tmp / "out", workers=1).out


def test_every_foreign_key_resolves_to_one_parent(shop):
    t = tables(shop)
    for child, parent in (("orders", "customers"), ("items", "orders")):
        key = f"{parent}_id"
        joined = t[child].join(t[parent], left_on=key, right_on="index", how="left", suffix="_p")
        assert joined.height == t[child].height
        orphans = t[child].join(t[parent], left_on=key, right_on="index", how="anti")
        assert orphans.height == 0
        assert t[child]["index"].sort().to_list() == list(range(t[child].height))


def test_child_counts_follow_rows_per_parent(shop):
    t = tables(shop)
    per = (
        t["customers"]
        .select("index")
        .join(
            t["orders"].group_by("customers_id").len(),
            left_on="index",
            right_on="customers_id",
            how="left",
        )
        .fill_null(0)["len"]
        .to_numpy()
    )
    top = 8
    observed = np.bincount(np.minimum(per, top), minlength=top + 1)
    probabilities = stats.poisson.pmf(np.arange(top), 3)
    expected = len(per) * np.append(probabilities, 1 - probabilities.sum())
    assert stats.chisquare(observed, expected).pvalue > 1e-3
    items = (
        t["orders"]
        .select("index")
        .join(
            t["items"].group_by("orders_id").len(),
            left_on="index",
            right_on="orders_id",
            how="left",
        )
    )
    counts = np.bincount(items.fill_null(0)["len"].to_numpy(), minlength=4)
    assert len(counts) == 4  # integer [0, 3]: no count outside it
    assert stats.chisquare(counts).pvalue > 1e-3


def test_no_parent_in_two_splits_and_children_follow_their_parent(shop):
    split_of: dict[str, dict[int, str]] = {}
    for table in ("customers", "orders", "items"):
        split_of[table] = {}
        for split in ("train", "val", "test"):
            frame = pl.read_parquet(shop / table / split / "*.parquet")
            for i in frame["index"].to_list():
                assert i not in split_of[table]
                split_of[table][i] = split
            key = {"orders": "customers_id", "items": "orders_id"}.get(table)
            if key:
                parent = "customers" if table == "orders" else "orders"
                assert {split_of[parent][p] for p in frame[key].unique().to_list()} <= {split}
    manifest = api.load_manifest(shop)
    rows = manifest["splits"]["val"]["tables"]
    assert rows["customers"]["samples"] == 300
    assert rows["orders"]["samples"] == sum(1 for s in split_of["orders"].values() if s == "val")


def test_a_parent_column_in_a_child_formula_is_recovered(shop):
    t = tables(shop)
    # income with nulls is what users see; the formula read the true income: use rows with it
    joined = t["orders"].join(t["customers"], left_on="customers_id", right_on="index")
    known = joined.drop_nulls("income")
    slope, intercept = np.polyfit(known["income"].to_numpy(), np.log(known["amount"].to_numpy()), 1)
    assert abs(slope - 0.02) < 0.002 and abs(intercept - 1) < 0.1
    pro = joined.filter(pl.col("plan") == "pro")["express"].mean()
    basic = joined.filter(pl.col("plan") == "basic")["express"].mean()
    assert abs(pro - 0.6) < 0.05 and abs(basic - 0.1) < 0.03
    items = t["items"].join(t["orders"], left_on="orders_id", right_on="index")
    assert abs((items["price"] - items["amount"]).std() - 0.5) < 0.05


def test_bytes_do_not_depend_on_workers_or_shard_size(shop, tmp_path):
    two = api.build(write(tmp_path, name="two"), tmp_path / "two", workers=2).out
    assert api.load_manifest(two)["content_sha256"] == api.load_manifest(shop)["content_sha256"]
    other = api.build(write(tmp_path, shard_size=170, name="cut"), tmp_path / "cut", workers=2).out
    assert len(list((other / "orders" / "train").glob("*.parquet"))) > 3
    a, b = tables(shop), tables(other)
    for table in a:
        assert a[table].sort("index").equals(b[table].sort("index"))


def test_verify_no_op_rebuild_and_a_repaired_child_shard(shop, tmp_path, cli):
    spec = write(tmp_path, name="again")
    out = api.build(spec, tmp_path / "out", workers=1).out
    assert api.verify(out) == 3 * (6 + 1 + 2)  # 3 tables; train 6 shards, val 1, test 2
    code, stdout, _ = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0 and "up to date" in stdout
    shard = out / "orders" / "val" / "val-00000.parquet"
    good = shard.read_bytes()
    shard.write_bytes(b"garbage")
    with pytest.raises(Exception, match="orders/val/val-00000.parquet"):
        api.verify(out)
    shard.unlink()
    (out / "items" / "test" / "stray.parquet").write_bytes(b"x")
    code, _, _ = cli("verify", out)
    assert code != 0
    (out / "items" / "test" / "stray.parquet").unlink()
    code, stdout, _ = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0 and "built 1 shard(s)" in stdout
    assert shard.read_bytes() == good


def test_more_samples_keep_the_earlier_shards(tmp_path, cli):
    spec = write(tmp_path, samples=2000, shard_size=500)
    out = api.build(spec, tmp_path / "out", workers=1).out
    first = (out / "items" / "train" / "train-00000.parquet").read_bytes()
    write(tmp_path, samples=4000, shard_size=500)
    code, stdout, _ = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0 and "kept 6" in stdout  # train shards 0 and 1 of each table: same rows
    assert (out / "items" / "train" / "train-00000.parquet").read_bytes() == first
    api.verify(out)


def test_open_reads_one_table_per_call(shop):
    orders = synthc.open(shop, table="orders")
    frame = orders["train"].lazy().collect()
    assert frame.columns == ["index", "customers_id", "amount", "express"]
    assert len(orders["train"]) == frame.height
    assert synthc.open(shop)["test"].lazy().collect().columns[:2] == ["index", "income"]
    with pytest.raises(UsageError, match="no table 'order'; did you mean 'orders'"):
        synthc.open(shop, table="order")
    # a list was dict's TypeError ("unhashable type: 'list'")
    with pytest.raises(UsageError, match=r"table=\['orders'\]: give a table's name, one of "):
        synthc.open(shop, table=["orders"])  # type: ignore[arg-type]


def test_an_empty_split_between_others_verifies_and_opens(tmp_path):
    # its rows of each table started at 0, not where the split before ended: verify and
    # synthc.open refused the dataset the build had just written
    spec = write(tmp_path, samples=30, shard_size=10)
    spec.write_text(spec.read_text().replace("val: 0.1", "val: 0.0").replace("0.2}", "0.3}"))
    out = api.build(spec, tmp_path / "out", workers=1).out
    api.verify(out)  # raises OutputError listing the problems
    orders = synthc.open(out, table="orders")
    assert orders["val"].lazy().collect().height == len(orders["val"]) == 0
    assert orders["test"].lazy().collect()["index"].min() == len(orders["train"])


def test_sample_and_stream_give_the_root_table(shop, tmp_path):
    spec = write(tmp_path)
    row = api.sample(spec, 2999)
    test = pl.read_parquet(shop / "customers" / "test" / "*.parquet")
    assert row.equals(test.filter(pl.col("index") == 2999))


def test_manifest_and_card_describe_each_table(shop):
    manifest = api.load_manifest(shop)
    assert list(manifest["schema"]["tables"]) == ["customers", "orders", "items"]
    facts = manifest["generator"]["facts"]["tables"]
    assert facts["items"]["foreign_key"] == "orders_id"
    assert facts["items"]["references"] == "orders.index"
    assert facts["orders"]["rows_per_parent"] == "poisson(lam=3)"
    card = (shop / "README.md").read_text()
    assert "config_name: items" in card and "- orders/val/val-00000.parquet" in card
    assert "| orders | customers | `customers_id` -> `customers.index` |" in card


def test_a_child_of_a_table_that_expects_no_rows_builds(tmp_path):
    # the grandchild's mean_rows_per_parent divided by the parent's expected rows per root
    # (0): an internal ZeroDivisionError when the facts were written
    spec = write(tmp_path, samples=20, shard_size=10)
    spec.write_text(spec.read_text().replace("lam: 3", "lam: 0"))
    result = api.build(spec, tmp_path / "out", workers=1)
    facts = api.load_manifest(result.out)["generator"]["facts"]["tables"]
    assert facts["orders"]["mean_rows_per_parent"] == 0.0
    assert facts["items"]["mean_rows_per_parent"] == 1.5
    assert tables(result.out)["items"].height == 0


def test_reproduce_and_plan(shop, tmp_path):
    result = api.reproduce(shop, workers=1, root=shop.parent)
    assert result.identical
    plan = api.plan(write(tmp_path))
    assert {t.path.split("/")[0] for t in plan.tasks} == {"customers", "orders", "items"}


BAD = {
    "parent: customers\n      rows_per_parent": (
        "parent: custmers\n      rows_per_parent",
        "generator.tables.orders.parent: unknown table 'custmers'; did you mean 'customers'?",
    ),
    "parent.income": ("parent.incme", "unknown column 'parent.incme'"),
    "parent: orders": ("parent: items", "parent cycle: orders -> items -> orders"),
    "lam: 3": ("lam: parent.income", "a count parameter must be a number"),
    "std: 0.5}": (
        "std: 0.5, standardize: true}",
        "generator.tables.items.columns.price.standardize: standardize is for a spec of one table",
    ),
}


@pytest.mark.parametrize(
    "good", list(BAD), ids=["parent", "column", "cycle", "formula", "standardize"]
)
def test_bad_specs_are_one_line_with_a_position(good, tmp_path):
    bad, message = BAD[good]
    spec = write(tmp_path)
    text = spec.read_text()
    if good == "parent: orders":  # make orders the child of items: a cycle
        text = text.replace("parent: customers", "parent: items")
    else:
        text = text.replace(good, bad, 1)
    spec.write_text(text)
    with pytest.raises(SpecError) as caught:
        api.validate(spec)
    lines = [line for line in str(caught.value).splitlines() if message in line]
    assert lines, str(caught.value)
    assert lines[0].startswith(f"{spec}:") and lines[0].split(":")[1].isdigit()


def test_a_table_that_is_its_own_parent_leaves_the_other_tables_judged(tmp_path):
    # judging items' columns followed its parent (itself) until a RecursionError, an internal
    # error; a cycle silenced every table's column checks
    spec = write(tmp_path)
    text = spec.read_text().replace("parent: orders", "parent: items")
    spec.write_text(text.replace('mu: "1 + 0.02 * parent.income"', 'mu: "parent.incme"'))
    with pytest.raises(SpecError) as caught:
        api.validate(spec)
    assert {(p.path, p.message.split(";")[0]) for p in caught.value.problems} == {
        ("generator.tables.items.parent", "a table cannot be its own parent"),
        ("generator.tables.orders.columns.amount.mu", "unknown column 'parent.incme'"),
    }


@pytest.mark.parametrize(
    ("name", "said"),
    [
        # the build failed as it planned its files: a path part longer than 255 bytes
        ("i" * 300, "a table name of 300 characters: at most 128"),
        # one folder on a file system that ignores case (macOS, Windows)
        ("Orders", "table names 'orders' and 'Orders' differ only in case"),
    ],
)
def test_a_table_name_that_cannot_be_a_folder_is_a_spec_error(tmp_path, name, said):
    spec = write(tmp_path)
    spec.write_text(spec.read_text().replace("    items:", f"    {name}:"))
    with pytest.raises(SpecError) as caught:
        api.validate(spec)
    assert [p.message for p in caught.value.problems if said in p.message], str(caught.value)


def test_a_lost_state_is_rebuilt_from_the_manifest_of_related_tables(tmp_path, cli):
    spec = write(tmp_path, samples=1000, shard_size=300)
    out = api.build(spec, tmp_path / "out", workers=1).out
    state = json.loads((out / ".synthc" / "state.json").read_text())
    shutil.rmtree(out / ".synthc")
    code, stdout, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0 and "up to date" in stdout and "rebuilt it from manifest.json" in err
    recovered = json.loads((out / ".synthc" / "state.json").read_text())
    assert recovered["shards"] == state["shards"]


def test_each_table_has_its_graph_file(shop):
    manifest = json.loads((shop / "manifest.json").read_text())
    for name, facts in manifest["generator"]["facts"]["tables"].items():
        assert facts["graph_file"] == f"{name}.graph.csv"
        edges = pl.read_csv(shop / facts["graph_file"])
        assert edges.to_dicts() == [
            {k: e[k] for k in edges.columns} for e in facts["graph"]["edges"]
        ]
    items = pl.read_csv(shop / "items.graph.csv").filter(pl.col("target") == "price")
    assert items.filter(pl.col("source") == "parent.amount")["coefficient"].to_list() == [1.0]


def test_progress_counts_rows_of_every_table(tmp_path):
    stream = io.StringIO()
    result = api.build(write(tmp_path), tmp_path / "out", workers=1, progress=LineProgress(stream))
    rows = sum(df.height for df in tables(result.out).values())
    lines = stream.getvalue().splitlines()
    assert lines[0] == f"synthc: building {len(result.plan.tasks)} shard(s), {rows} rows"
    assert lines[-1].startswith(f"synthc: wrote {rows} rows in ")


def test_a_child_table_shard_whose_index_is_not_its_rows_is_a_problem(tmp_path, cli):
    """A related table's index is the row's index in its table, its shard entry's
    ``first_sample`` on: a child shard whose index restarted at 0 (its sha256 recomputed)
    passed verify and synthc.open(table=..., verify=True)."""
    out = api.build(write(tmp_path, samples=100, shard_size=30), tmp_path / "out", workers=1).out
    manifest = api.load_manifest(out)
    entry = next(
        s
        for s in manifest["splits"]["train"]["shards"]
        if s["table"] == "orders" and s["first_sample"]
    )
    first, rows = entry["first_sample"], entry["samples"]
    assert first > 0 and rows > 1
    shard = out / entry["path"]
    frame = pl.read_parquet(shard)
    frame.with_columns(index=pl.Series(range(rows), dtype=pl.Int64)).write_parquet(shard)
    data = shard.read_bytes()
    entry.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    for split in manifest["splits"].values():
        split["bytes"] = sum(s["bytes"] for s in split["shards"])
        for name, table in split["tables"].items():
            table["bytes"] = sum(s["bytes"] for s in split["shards"] if s["table"] == name)
    manifest["bytes"] = sum(s["bytes"] for s in iter_shards(manifest))
    manifest["content_sha256"] = content_sha256(iter_shards(manifest))
    (out / "manifest.json").write_bytes(encode_manifest(manifest))
    words = (
        f"{entry['path']}: its index runs 0..{rows - 1}, "
        f"the manifest records {first}..{first + rows - 1}"
    )
    code, _, stderr = cli("verify", out)
    assert code == 1 and words in stderr.splitlines(), stderr
    with pytest.raises(OutputError, match=re.escape(words)):
        synthc.open(out, table="orders", verify=True)["train"].lazy()


def test_a_wrong_rows_per_parent_is_named_at_its_own_field(tmp_path):
    # an optional discriminated field was reported at rows_per_parent.rows_per_parent, and an
    # unknown key of a valid member as "unknown field 'rows_per_parent'"
    spec = write(tmp_path)
    text = spec.read_text()
    spec.write_text(text.replace("{dist: poisson, lam: 3}", "{dist: poisson, lam: 3, bogus: 1}"))
    with pytest.raises(SpecError) as caught:
        api.validate(spec)
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("generator.tables.orders.rows_per_parent.bogus", "unknown field 'bogus'")
    ]


@pytest.mark.parametrize("columns", ["", "\n  columns: [amount]"])
def test_tables_without_a_root_are_a_spec_error(tmp_path, columns):
    # every table with a parent: table_names() was empty, so output.columns judged the spec as
    # one table and looked for its root (an internal error: generator raised StopIteration)
    spec = write(tmp_path)
    text = spec.read_text().replace("    customers:\n", "    customers:\n      parent: nope\n")
    spec.write_text(text + columns)
    with pytest.raises(SpecError) as caught:
        api.validate(spec)
    said = {(p.path, p.message.split(";")[0]) for p in caught.value.problems}
    assert ("generator.tables.customers.parent", "unknown table 'nope'") in said
    if columns:
        assert ("output.columns", "output.columns keeps columns of a spec of one table") in said


def test_a_label_named_as_the_foreign_key_is_a_spec_error(tmp_path):
    # it validated, and every shard of the table failed: "declares column 'customers_id' twice"
    spec = write(tmp_path)
    label = '      label: {name: customers_id, kind: linear, formula: "amount"}\n'
    text = spec.read_text().replace("    items:\n", label + "    items:\n")
    spec.write_text(text)
    with pytest.raises(SpecError) as caught:
        api.validate(spec)
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("generator.tables.orders.label.name", "'customers_id' is the table's foreign key")
    ]


def test_a_child_sequence_beyond_int64_fails_its_shard(tmp_path):
    # validate judges a child's sequence over its expected rows (1,000 here); seed 3 draws
    # 1,017 orders, and rows past 999 wrapped around to negative values without a word
    spec = tmp_path / "seq.yaml"
    start, step = 2**63 - 1 - 2**50 * 999, 2**50
    spec.write_text(
        "synthc: 1\nname: seq\nseed: 3\nsamples: 200\ngenerator:\n  kind: tabular\n"
        "  tables:\n    customers:\n      columns: {a: {dist: normal}}\n"
        "    orders:\n      parent: customers\n      rows_per_parent: {dist: poisson, lam: 5}\n"
        f"      columns: {{s: {{dist: sequence, start: {start}, step: {step}}}}}\n"
    )
    api.validate(spec)
    with pytest.raises(BuildError, match=r"column s: the sequence reaches .* at row 1000"):
        api.build(spec, tmp_path / "out", workers=1)


@pytest.mark.parametrize(
    ("count", "field"),
    [
        ("{dist: poisson, lam: 3, dtype: float32}", "dtype"),
        ("{dist: integer, low: 0, high: 3, standardize: true}", "standardize"),
        ("{dist: constant, value: 2, standardize: true}", "standardize"),
    ],
)
def test_a_count_takes_no_dtype_or_standardize(tmp_path, count, field):
    # both validated and were ignored: counts are drawn as whole numbers of rows
    spec = write(tmp_path)
    spec.write_text(spec.read_text().replace("{dist: poisson, lam: 3}", count))
    with pytest.raises(SpecError) as caught:
        api.validate(spec)
    assert [(p.path, p.message) for p in caught.value.problems] == [
        (f"generator.tables.orders.rows_per_parent.{field}", f"a count takes no {field}")
    ]
