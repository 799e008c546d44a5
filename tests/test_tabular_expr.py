"""The formula language of tabular specs: parsing, checking, polars evaluation, text, affine form.

Every evaluated formula is compared with the same formula computed by hand in NumPy.
"""

from __future__ import annotations

import ast
import datetime as dt
import math
import pickle
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthc.generators.tabular import expr as E
from synthc.generators.tabular.expr import Binary, Call, Name, Num, Str, Unary

NAN, INF = math.nan, math.inf
X = np.array([-2.0, -0.5, 0.0, 0.5, 1.0, 3.0, NAN, INF])
Y = np.array([1.0, NAN, 0.0, -1.0, 2.0, 3.0, NAN, 0.5])
INCOME = np.array([0, 1200, 35000, 51000, 72000, 99000, 15000, 8000])
AGE = np.array([18, 25, 33, 47, 52, 61, 70, 29])
PLAN = np.array(["pro", "free", "team", "pro", "free", "pro", "team", "free"])
REGION = np.array(["north", "south", "north", "east", "north", "west", "south", "north"])
DATES = [dt.date(1970, 1, 1), dt.date(1969, 12, 31), dt.date(2000, 2, 29), dt.date(2024, 6, 30)]
DATES += [dt.date(1900, 1, 1), dt.date(2038, 1, 19), dt.date(1999, 12, 31), dt.date(2010, 5, 5)]
STAMPS = [
    dt.datetime(1970, 1, 1),
    dt.datetime(1969, 12, 31, 23, 59, 59, 500000),
    dt.datetime(2000, 2, 29, 12, 30, 15, 250),
    dt.datetime(2024, 6, 30, 1, 2, 3, 456789),
    dt.datetime(1900, 1, 1, 0, 0, 0, 1),
    dt.datetime(2038, 1, 19, 3, 14, 7),
    dt.datetime(1999, 12, 31, 23, 59, 59, 999999),
    dt.datetime(2010, 5, 5, 5, 5, 5, 5),
]
# Computed independently of polars: days and seconds since the epoch via numpy datetime64.
D = np.array(DATES, dtype="datetime64[D]").astype(np.int64).astype(np.float64)
T = np.array(STAMPS, dtype="datetime64[us]").astype(np.int64) / 1e6

FRAME = pl.DataFrame(
    {
        "x": X,
        "y": Y,
        "income": pl.Series(INCOME, dtype=pl.Int64),
        "age": pl.Series(AGE, dtype=pl.Int32),
        "plan": pl.Series(PLAN.tolist(), dtype=pl.Enum(["free", "pro", "team"])),
        "region": pl.Series(REGION.tolist(), dtype=pl.String),
        "d": pl.Series(DATES, dtype=pl.Date),
        "t": pl.Series(STAMPS, dtype=pl.Datetime("us")),
    }
)
KINDS = {
    "x": "numeric",
    "y": "numeric",
    "income": "numeric",
    "age": "numeric",
    "plan": "categorical",
    "region": "categorical",
    "d": "date",
    "t": "timestamp",
}
CATEGORIES = {"plan": ["free", "pro", "team"], "region": ["north", "south", "east", "west"]}

INC, AGES = INCOME.astype(np.float64), AGE.astype(np.float64)


def f(condition):
    return np.asarray(condition, dtype=np.float64)


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


# (formula, the same computed in NumPy); NumPy runs with every floating-point warning silenced.
CASES = [
    ("0.01 * income + 5 * (plan == 'pro')", lambda: 0.01 * INC + 5 * f(PLAN == "pro")),
    (
        "-3 + 0.04 * age - 0.5 * (region == 'north')",
        lambda: -3 + 0.04 * AGES - 0.5 * f(REGION == "north"),
    ),
    # precedence and associativity
    ("-2**2", lambda: -4.0),
    ("2**3**2", lambda: 512.0),
    ("1 - 2 - 3", lambda: -4.0),
    ("8 / 4 / 2", lambda: 1.0),
    ("2 + 3 * 4", lambda: 14.0),
    ("(2 + 3) * 4", lambda: 20.0),
    ("2 ** -1", lambda: 0.5),
    ("-x ** 2", lambda: -(X**2)),
    ("(-x) ** 2", lambda: (-X) ** 2),
    ("2 ** -x", lambda: 2.0 ** (-X)),
    ("x ** 0.5", lambda: X**0.5),
    ("x - y - 1", lambda: (X - Y) - 1),
    ("x / y / 2", lambda: (X / Y) / 2),
    ("-y - -x", lambda: -Y - -X),
    ("+x * 2", lambda: X * 2),
    ("x * y + x / 2 - 1e-3", lambda: X * Y + X / 2 - 1e-3),
    ("1 / x", lambda: 1 / X),
    ("income / 7", lambda: INC / 7),
    (".5 * age + 2.5E+1", lambda: 0.5 * AGES + 25.0),
    # comparisons (IEEE: NaN compares false, except !=)
    ("x < y", lambda: f(X < Y)),
    ("x <= y", lambda: f(X <= Y)),
    ("x > y", lambda: f(X > Y)),
    ("x >= y", lambda: f(X >= Y)),
    ("x == y", lambda: f(X == Y)),
    ("x != y", lambda: f(X != Y)),
    ("x == x", lambda: f(X == X)),
    ("x != x", lambda: f(X != X)),
    ("1 > x", lambda: f(X < 1)),
    ("x >= 0.5", lambda: f(X >= 0.5)),
    ("x + 1 < y * 2", lambda: f(X + 1 < Y * 2)),
    ("(x < y) == (y < 1)", lambda: f(f(X < Y) == f(Y < 1))),
    # logic (nonzero is true; NaN is nonzero)
    ("x > 0 and y > 0", lambda: f((X > 0) & (Y > 0))),
    ("x > 0 or y > 0", lambda: f((X > 0) | (Y > 0))),
    ("not x", lambda: f(X == 0)),
    ("not x == 0", lambda: f(~(X == 0))),
    ("not not y", lambda: f(Y != 0)),
    ("x and y", lambda: f((X != 0) & (Y != 0))),
    ("x or not y and x > 1", lambda: f((X != 0) | ((Y == 0) & (X > 1)))),
    ("2 * (x > 0 and not y < 0)", lambda: 2 * f((X > 0) & ~(Y < 0))),
    # functions
    ("log(x)", lambda: np.log(X)),
    ("exp(x)", lambda: np.exp(X)),
    ("exp(1000 * x)", lambda: np.exp(1000 * X)),
    ("sqrt(x)", lambda: np.sqrt(X)),
    ("abs(x - 1)", lambda: np.abs(X - 1)),
    ("sin(x) + cos(y)", lambda: np.sin(X) + np.cos(Y)),
    ("tanh(x)", lambda: np.tanh(X)),
    ("floor(x) + ceil(y)", lambda: np.floor(X) + np.ceil(Y)),
    ("sigmoid(x)", lambda: sigmoid(X)),
    ("sigmoid(-1000 * x)", lambda: sigmoid(-1000 * X)),
    ("min(x, y)", lambda: np.minimum(X, Y)),
    ("max(x, y, 0.5)", lambda: np.maximum(np.maximum(X, Y), 0.5)),
    ("min(age, 40, income / 1000)", lambda: np.minimum(np.minimum(AGES, 40), INC / 1000)),
    ("clip(x, -1, 2)", lambda: np.clip(X, -1, 2)),
    ("clip(x, y, 1)", lambda: np.clip(X, Y, 1)),
    ("clip(2, 3, 1)", lambda: 1.0),  # as numpy.clip: the upper bound wins
    ("where(x > 0, log(x), -1)", lambda: np.where(X > 0, np.log(X), -1)),
    ("where(y, x, 7)", lambda: np.where(Y != 0, X, 7)),
    ("where(plan == 'pro', x, y)", lambda: np.where(PLAN == "pro", X, Y)),
    # categorical, date and timestamp columns
    ("plan == 'pro'", lambda: f(PLAN == "pro")),
    ("'pro' != plan", lambda: f(PLAN != "pro")),
    ("region == \"north\" and plan == 'team'", lambda: f((REGION == "north") & (PLAN == "team"))),
    ("d", lambda: D),
    ("t", lambda: T),
    ("(t - 86400 * d) / 3600", lambda: (T - 86400 * D) / 3600),
    ("d > 10957", lambda: f(D > 10957)),
    ("floor(t / 3600) + x", lambda: np.floor(T / 3600) + X),
]


def evaluate(text: str, frame: pl.DataFrame = FRAME) -> pl.Series:
    return frame.with_columns(value=E.to_polars(E.parse(text), KINDS))["value"]


@pytest.mark.parametrize(("text", "by_hand"), CASES, ids=[text for text, _ in CASES])
def test_evaluation_matches_numpy(text, by_hand):
    series = evaluate(text)
    assert series.dtype == pl.Float64
    with np.errstate(all="ignore"):
        expected = np.broadcast_to(np.asarray(by_hand(), dtype=np.float64), X.shape)
    np.testing.assert_allclose(series.to_numpy(), expected, rtol=1e-12, atol=0, equal_nan=True)


def test_dates_and_timestamps_are_exact():
    np.testing.assert_array_equal(evaluate("d").to_numpy(), D)
    np.testing.assert_array_equal(evaluate("t").to_numpy(), T)
    rng = np.random.default_rng(5)
    micros = np.concatenate([np.arange(-5000, 5000), rng.integers(-(10**16), 10**16, 5000)])
    frame = pl.DataFrame({"t": pl.Series(micros).cast(pl.Datetime("us"))})
    seconds = frame.select(E.to_polars(E.parse("t"), KINDS)).to_series().to_numpy()
    np.testing.assert_array_equal(seconds, micros / 1e6)


def test_nulls_propagate():
    frame = pl.DataFrame(
        {"x": [None, 2.0], "y": [1.0, None]}, schema={"x": pl.Float64, "y": pl.Float64}
    )
    for text in ["x + 1", "log(x)", "x < 1", "min(x, 1)", "clip(0.5, x, 1)", "where(x, 1, 2)"]:
        values = frame.with_columns(value=E.to_polars(E.parse(text), KINDS))["value"]
        assert values.is_null().to_list() == [True, False], text  # x is null in row 0 only
    values = frame.with_columns(value=E.to_polars(E.parse("max(y, 0) * 2"), KINDS))["value"]
    assert values.to_list() == [2.0, None]


def test_constant_folding_agrees_with_polars():
    for text, _ in CASES:
        node = E.parse(text)
        if not E.names(node):
            intercept, terms = E.affine(node)
            assert terms == {}
            assert evaluate(text).to_list() == [intercept] * len(X), text


# -- errors ------------------------------------------------------------------------------------

PARSE_ERRORS = [
    ("", 0, "empty formula"),
    ("   ", 0, "empty formula"),
    ("x +", 3, "expected a value, found the end of the formula"),
    ("(x + 1", 0, "'(' was never closed"),
    ("log(x", 3, "'(' was never closed"),
    ("x + 1)", 5, "unmatched ')'"),
    ("(x y)", 3, "expected ')' or an operator, found name 'y'"),
    ("x y", 2, "unexpected name 'y'; expected an operator or the end of the formula"),
    ("2 * x 3", 6, "unexpected number 3"),
    ("x < y < 1", 6, "comparisons cannot be chained"),
    ("x == y != 1", 7, "comparisons cannot be chained"),
    ("lg(x)", 0, "unknown function 'lg'; did you mean 'log'?"),
    ("1 + sigmod(x)", 4, "did you mean 'sigmoid'?"),
    ("frobnicate(x)", 0, "unknown function 'frobnicate'"),
    ("clip(x, 1)", 0, "clip() takes exactly 3 arguments, got 2"),
    ("x + log(x, y)", 4, "log() takes exactly 1 argument, got 2"),
    ("max(x)", 0, "max() takes at least 2 arguments, got 1"),
    ("where()", 0, "where() takes exactly 3 arguments, got 0"),
    ("max(x, y,)", 9, "expected a value, found ')'"),
    ("min(x y)", 6, "expected ',' or ')' in the arguments of min(), found name 'y'"),
    ("x = 1", 2, "use '=='"),
    ("x && y", 2, "use 'and'"),
    ("x $ y", 2, "unexpected character '$'"),
    ("'pro", 0, "unterminated string literal"),
    ("plan == \"pro'", 8, "unterminated string literal"),
    ("1e+", 0, "malformed number"),
    ("x == not y", 5, "'not' needs parentheses"),
    ("x * and", 4, "expected a value, found 'and'"),
]


@pytest.mark.parametrize(("text", "offset", "message"), PARSE_ERRORS)
def test_parse_errors(text, offset, message):
    with pytest.raises(E.ExprError) as caught:
        E.parse(text)
    assert caught.value.offset == offset
    assert message in caught.value.message
    assert str(caught.value) == f"{caught.value.message} (at offset {offset})"


CHECK_ERRORS = [
    ("agee + 1", [(0, "unknown column 'agee'; did you mean 'age'?")]),
    ("x + incme", [(4, "unknown column 'incme'; did you mean 'income'?")]),
    ("x + zzz", [(4, "unknown column 'zzz'")]),
    ("x + 'pro'", [(4, "misplaced string 'pro'")]),
    ("log('pro')", [(4, "misplaced string")]),
    ("x == 'pro'", [(5, "cannot be compared with numeric column 'x'")]),
    ("plan == 'prp'", [(8, "'prp' is not a category of column 'plan'; did you mean 'pro'?")]),
    (
        "'nort' != region",
        [(0, "'nort' is not a category of column 'region'; did you mean 'north'?")],
    ),
    ("plan + 1", [(0, "categorical column 'plan' can only be compared with == or != to a string")]),
    ("plan < 'pro'", [(0, "categorical column 'plan'"), (7, "misplaced string 'pro'")]),
    ("plan == region", [(0, "categorical column 'plan'"), (8, "categorical column 'region'")]),
    ("'a' == 'b'", [(0, "misplaced string 'a'"), (7, "misplaced string 'b'")]),
    ("plann == 'pro'", [(0, "unknown column 'plann'; did you mean 'plan'?")]),
    (
        "agee * (plan == 'proo') + where(region, x, 'y') + income",
        [
            (0, "unknown column 'agee'"),
            (16, "'proo' is not a category"),
            (32, "categorical column 'region'"),
            (43, "misplaced string 'y'"),
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), CHECK_ERRORS)
def test_check_reports_every_problem(text, expected):
    errors = E.check(E.parse(text), KINDS, CATEGORIES)
    assert [error.offset for error in errors] == [offset for offset, _ in expected]
    for error, (_, message) in zip(errors, expected, strict=True):
        assert message in error.message


def test_check_accepts_valid_formulas():
    for text, _ in CASES:
        assert E.check(E.parse(text), KINDS, CATEGORIES) == [], text


def test_check_without_categories_accepts_any_string():
    assert E.check(E.parse("plan == 'anything'"), KINDS, {}) == []


def test_to_polars_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="kind 'text'"):
        E.to_polars(E.parse("x + 1"), {"x": "text"})


def test_to_polars_raises_what_check_finds():
    with pytest.raises(E.ExprError, match="unknown column 'agee'") as caught:
        E.to_polars(E.parse("1 + agee"), KINDS)
    assert caught.value.offset == 4
    with pytest.raises(E.ExprError, match="categorical column 'plan'"):
        E.to_polars(E.parse("plan * 2"), KINDS)


def test_errors_pickle():
    error = pickle.loads(pickle.dumps(E.ExprError("unknown column 'a'", 3)))
    assert (error.message, error.offset) == ("unknown column 'a'", 3)


def test_nesting_limits():
    with pytest.raises(E.ExprError, match="nested too deeply"):
        E.parse("(" * 150 + "x" + ")" * 150)
    with pytest.raises(E.ExprError, match="over 200 levels of operations") as caught:
        E.parse(" + ".join(["x"] * 300))
    assert 0 < caught.value.offset < len(" + ".join(["x"] * 300))
    text = " + ".join(["x"] * 150)
    assert E.affine(E.parse(text)) == (0.0, {"x": 150.0})
    np.testing.assert_array_equal(evaluate(text).to_numpy(), X * 150)


# -- the tree ----------------------------------------------------------------------------------


def test_tree_and_offsets():
    node = E.parse("x + log(y) * 2")
    assert node == Binary("+", Name("x"), Binary("*", Call("log", (Name("y"),)), Num(2.0)))
    assert node.offset == 2
    assert node.right.offset == 11
    assert node.right.left.offset == 4
    assert node.right.left.args[0].offset == 8
    string = E.parse("plan == 'pro'").right
    assert string == Str("pro") and string.offset == 8
    assert E.parse("-2**2") == Unary("-", Binary("**", Num(2.0), Num(2.0)))
    assert E.parse("2**3**2") == Binary("**", Num(2.0), Binary("**", Num(3.0), Num(2.0)))
    assert E.parse("not a < b") == Unary("not", Binary("<", Name("a"), Name("b")))


def test_numbers():
    for text, value in [("3", 3.0), ("0.5", 0.5), (".5", 0.5), ("1e-3", 1e-3), ("2.5E+4", 2.5e4)]:
        assert E.parse(text) == Num(value)


def test_names_in_source_order_with_duplicates():
    refs = E.names(E.parse("x + max(y, x) * (plan == 'pro') - log"))
    assert [(ref.name, ref.offset) for ref in refs] == [
        ("x", 0),
        ("y", 8),
        ("x", 11),
        ("plan", 17),
        ("log", 34),
    ]


# -- affine ------------------------------------------------------------------------------------

AFFINE = [
    ("-3 + 0.04 * age - 0.5 * (region == 'north')", -3.0, {"age": 0.04, "region == 'north'": -0.5}),
    ("2 * (a + 1) - a", 2.0, {"a": 1.0}),
    ("0.01 * income + 5 * (plan == 'pro')", 0.0, {"income": 0.01, "plan == 'pro'": 5.0}),
    ("7", 7.0, {}),
    ("-(x - 2 * y) + 1", 1.0, {"x": -1.0, "y": 2.0}),
    ("x / 4 + 3 * x / 2", 0.0, {"x": 1.75}),
    ("(x + 6) / 3", 2.0, {"x": 1 / 3}),
    ("x * y + 2 * (x * y)", 0.0, {"x * y": 3.0}),
    ("log(2) * x + 2 ** 3", 8.0, {"x": math.log(2)}),
    ("x - x", 0.0, {"x": 0.0}),
    ("3 * (x > 1) / 2 - 1", -1.0, {"x > 1": 1.5}),
    ("x ** 2 - 2 * x ** 2", 0.0, {"x ** 2": -1.0}),
    (
        "sigmoid(x) + where(plan == 'pro', x, 0)",
        0.0,
        {"sigmoid(x)": 1.0, "where(plan == 'pro', x, 0)": 1.0},
    ),
    ("x / 0 + x / y", 0.0, {"x / 0": 1.0, "x / y": 1.0}),
    ("-(not x)", 0.0, {"not x": -1.0}),
    ("(x*(y)) + +x", 0.0, {"x * y": 1.0, "x": 1.0}),
]


@pytest.mark.parametrize(("text", "intercept", "terms"), AFFINE)
def test_affine(text, intercept, terms):
    got_intercept, got_terms = E.affine(E.parse(text))
    assert got_intercept == pytest.approx(intercept, rel=1e-15)
    assert list(got_terms) == list(terms)
    for key, value in terms.items():
        assert got_terms[key] == pytest.approx(value, rel=1e-15), key


def test_affine_reconstructs_the_formula():
    finite = FRAME.filter(pl.col("x").is_finite() & pl.col("y").is_finite() & (pl.col("x") > 0))
    for text in [
        "-3 + 0.04 * age - 0.5 * (region == 'north')",
        "2 * (x + 1) - x / 4 + 3 * log(x) * 2",
        "(x * y - 1) / 8 + sigmoid(y) * -2 + 0.5 * (plan == 'team')",
    ]:
        intercept, terms = E.affine(E.parse(text))
        rebuilt = np.full(len(finite), intercept)
        for key, coefficient in terms.items():
            rebuilt += coefficient * evaluate(key, finite).to_numpy()
        np.testing.assert_allclose(rebuilt, evaluate(text, finite).to_numpy(), rtol=1e-12)


# -- text --------------------------------------------------------------------------------------

CANONICAL = [
    ("0.01*income+5*(plan=='pro')", "0.01 * income + 5 * (plan == 'pro')"),
    ("((x))", "x"),
    ("(a + b) + c", "a + b + c"),
    ("a + (b + c)", "a + (b + c)"),
    ("a - (b - c)", "a - (b - c)"),
    ("(a * b) / (c * d)", "a * b / (c * d)"),
    ("-(2 ** 2)", "-2 ** 2"),
    ("(-2) ** 2", "(-2) ** 2"),
    ("2 ** (3 ** 2)", "2 ** 3 ** 2"),
    ("(2 ** 3) ** 2", "(2 ** 3) ** 2"),
    ("2 ** (-x)", "2 ** -x"),
    ("x * (-y)", "x * -y"),
    ("not (a and b)", "not (a and b)"),
    ("(not a) and b", "not a and b"),
    ("(not a) + 1", "(not a) + 1"),
    ("a == (not b)", "a == (not b)"),
    ("(a < b) == c", "(a < b) == c"),
    ("a < (b == c)", "a < (b == c)"),
    ("(a or b) and c", "(a or b) and c"),
    ("a or (b and c)", "a or b and c"),
    ('"x" == p', "'x' == p"),
    ('"it\'s" == p', '"it\'s" == p'),
    ("max( a ,b,c )", "max(a, b, c)"),
    ("1.50", "1.5"),
    ("1e3", "1000"),
    ("2.5E+4", "25000"),
    (".5", "0.5"),
    ("1e-3", "0.001"),
    ("1e-7", "1e-07"),
    ("1e20", "1e+20"),
    ("1e999", "1e999"),
]


@pytest.mark.parametrize(("text", "canonical"), CANONICAL)
def test_canonical_text(text, canonical):
    node = E.parse(text)
    assert E.to_text(node) == canonical
    assert E.parse(canonical) == node


def test_text_round_trips_every_case():
    for text in [text for text, _ in CASES] + [text for text, *_ in AFFINE]:
        node = E.parse(text)
        canonical = E.to_text(node)
        assert E.parse(canonical) == node, text
        assert E.to_text(E.parse(canonical)) == canonical


_leaves = st.one_of(
    st.floats(min_value=0, allow_nan=False).map(Num),
    st.text(alphabet="ab' _z", max_size=4).map(Str),
    st.sampled_from(["a", "b2", "_c", "logx", "nota", "x_y"]).map(Name),
)


def _extend(children):
    one = sorted(name for name, (low, high) in E.FUNCTIONS.items() if high == 1)
    return st.one_of(
        st.builds(Unary, st.sampled_from(["-", "+", "not"]), children),
        st.builds(
            Binary,
            st.sampled_from(
                ["or", "and", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "**"]
            ),
            children,
            children,
        ),
        st.builds(lambda name, arg: Call(name, (arg,)), st.sampled_from(one), children),
        st.builds(
            Call,
            st.sampled_from(["min", "max"]),
            st.lists(children, min_size=2, max_size=3).map(tuple),
        ),
        st.builds(
            Call, st.sampled_from(["clip", "where"]), st.tuples(children, children, children)
        ),
    )


@settings(max_examples=150, deadline=None)
@given(st.recursive(_leaves, _extend, max_leaves=10))
def test_text_round_trip_property(node):
    text = E.to_text(node)
    assert E.parse(text) == node
    assert E.to_text(E.parse(text)) == text


#: the expression package's modules in the order a formula flows through them
EXPR_MODULES = [
    "errors",
    "grammar",
    "nodes",
    "tokens",
    "parser",
    "checks",
    "compile",
    "text",
    "decomposition",
]


def test_expression_modules_import_only_earlier_ones():
    """One module per job, and no import runs back up the flow (so there is no circle)."""
    package = Path(E.__file__).parent
    assert sorted(p.stem for p in package.glob("*.py")) == sorted([*EXPR_MODULES, "__init__"])
    prefix = f"{E.__name__}."
    for position, module in enumerate(EXPR_MODULES):
        tree = ast.parse((package / f"{module}.py").read_text())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:  # from .x import y
                imported |= {node.module} if node.module else {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(prefix):
                imported.add(node.module.removeprefix(prefix))
        assert imported <= set(EXPR_MODULES[:position]), module
