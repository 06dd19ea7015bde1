import numpy as np
import pytest
import xarray as xr

from lcne.analysis.metrics import metrics_table, propagated_metrics, stability_metrics

# three blocks of four iterations, values chosen so every metric is easy by hand
CURVE = [0.2, 0.6, 0.8, 0.9, 0.5, 0.7, 0.85, 0.95, 0.95, 0.76, 0.9, 1.0]


def test_hand_computed_code_convention():
    m = stability_metrics(CURVE, 4, convention="code")
    np.testing.assert_allclose(m["final"], [0.9, 0.95, 1.0])
    np.testing.assert_allclose(m["min"], [0.2, 0.5, 0.76])
    assert m["avg_acc"] == pytest.approx((0.9 + 0.95 + 1.0) / 3)
    # code: minima of blocks 1..T-1 = (0.2 + 0.5) / 2
    assert m["avg_min_acc"] == pytest.approx(0.35)
    assert m["wc_acc"] == pytest.approx(1.0 / 3 + (2 / 3) * 0.35)
    # SG_2 = (0.9 - 0.5)/0.9, SG_3 = (0.95 - 0.76)/0.95
    np.testing.assert_allclose(m["sg"], [0.4 / 0.9, 0.2])
    assert m["avg_sg"] == pytest.approx((0.4 / 0.9 + 0.2) / 2)


def test_hand_computed_after_first_convention():
    m = stability_metrics(CURVE, 4, convention="after-first")
    assert m["avg_min_acc"] == pytest.approx((0.5 + 0.76) / 2)
    assert m["wc_acc"] == pytest.approx(1.0 / 3 + (2 / 3) * 0.63)
    # SG does not depend on the convention
    np.testing.assert_allclose(m["sg"], [0.4 / 0.9, 0.2])


def test_percent_units_carry_through():
    m = stability_metrics(np.array(CURVE) * 100, 4)
    assert m["avg_acc"] == pytest.approx(95.0)
    np.testing.assert_allclose(m["sg"], [0.4 / 0.9, 0.2])  # relative, unitless


@pytest.mark.parametrize(
    "bad, match",
    [((np.ones(10), 4), "multiple"), ((np.ones(4), 4), "two contexts"), ((np.ones((2, 4)), 4), "1-D")],
)
def test_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        stability_metrics(*bad)
    with pytest.raises(ValueError, match="convention"):
        stability_metrics(CURVE, 4, convention="nope")


def test_propagated_errors_match_formula():
    mean = np.array(CURVE)
    sd = np.full(12, 0.1)
    vals, errs = propagated_metrics(mean, sd, 4)
    assert vals["avg_sg"] == pytest.approx(stability_metrics(CURVE, 4)["avg_sg"])
    assert errs["avg_acc"] == pytest.approx(np.sqrt(3 * 0.01) / 3)
    assert errs["avg_min_acc"] == pytest.approx(np.sqrt(2 * 0.01) / 2)
    F, M = 0.9, 0.5
    sg_var = (0.01 + 0.01) / F**2 + (F - M) ** 2 * 0.01 / F**4
    assert errs["sg"][0] == pytest.approx(np.sqrt(sg_var))


def _dataset(curves_by_opt, ipt):
    opts = list(curves_by_opt)
    acc = np.stack([np.asarray(curves_by_opt[o]) for o in opts])  # (opt, seed, iter)
    acc = acc[..., None]
    ds = xr.Dataset(
        {"accuracy": (("method", "seed", "iteration", "eval_task"), acc)},
        coords={"method": opts, "seed": [1, 2], "iteration": np.arange(acc.shape[2]), "eval_task": [1]},
        attrs={"iterations_per_task": ipt},
    )
    return ds


def test_table_both_seed_conventions():
    a = np.array(CURVE)
    b = np.array(CURVE[::-1])
    ds = _dataset({"x": [a, b]}, 4)
    t = metrics_table(ds, percent=False)
    mean_curve = (a + b) / 2
    assert t.loc["x", "avg_sg"] == pytest.approx(stability_metrics(mean_curve, 4)["avg_sg"])
    per = [stability_metrics(c, 4)["avg_sg"] for c in (a, b)]
    assert t.loc["x", "avg_sg_seed_mean"] == pytest.approx(np.mean(per))
    assert t.loc["x", "avg_sg_seed_sd"] == pytest.approx(np.std(per, ddof=1))
    assert t.loc["x", "n_seeds"] == 2
    t100 = metrics_table(ds, percent=True)
    assert t100.loc["x", "avg_acc"] == pytest.approx(100 * t.loc["x", "avg_acc"])


# ----------------------------------------------------------------------- the vocabulary
# One table of metrics and one of methods (lcne.analysis.vocabulary): every key the report,
# the figures and the selection use is in it, every method has a label and a colour, and
# no other analysis module keeps its own copy.

def test_every_metric_used_by_report_figures_and_selection_is_in_the_table():
    import inspect

    from lcne.analysis import figure_set, report, selection, study_figure
    from lcne.analysis.metrics import per_seed_metrics
    from lcne.analysis.synthetic import synthetic_results
    from lcne.analysis.vocabulary import METRICS, SUMMARY_METRICS, metric

    assert set(SUMMARY_METRICS) <= set(METRICS)
    used = set(SUMMARY_METRICS)
    used |= {claim[1] for claim in report.CLAIMS}
    used |= set(selection.SELECTION_METRICS)
    used |= set(inspect.signature(study_figure.study_figure).parameters["metrics"].default)
    ds = synthetic_results(iterations_per_task=10, seeds=(0, 1), methods=("ngm", "sgd"))
    suffixes = ("_err", "_seed_mean", "_seed_sd", "_ci_low", "_ci_high", "_paper_v1", "_paper_v2")
    for table in (metrics_table(ds), report.benchmark_tables(ds)):
        used |= {c for c in table.columns if not c.endswith(suffixes) and c not in ("n_seeds", "n_runs", "n_diverged", "lr")}
    used |= set(per_seed_metrics(ds, "ngm").columns)
    assert "sg_2" in used and "sg_5" in used
    for key in sorted(used):
        m = metric(key)  # raises KeyError for a key the table does not know
        assert m.label and m.unit in ("%", "fraction") and m.better in (1, -1) and m.scale in (1.0, 100.0)
    # selection directions are the table's
    assert selection.SELECTION_METRICS == {k: METRICS[k].better for k in SUMMARY_METRICS}
    assert selection.SELECTION_METRICS["avg_sg"] == -1 and selection.SELECTION_METRICS["wc_acc"] == 1
    # the figure axes read the table
    assert metric("avg_sg").axis_label == "avg-SG (fraction)" and metric("avg_acc").axis_label == "avg-ACC (%)"
    assert figure_set.SUMMARY_METRICS is SUMMARY_METRICS
    with pytest.raises(KeyError, match="unknown metric"):
        metric("avg_accuracy")


def test_every_method_has_a_label_a_colour_and_a_distinct_look():
    from matplotlib.colors import is_color_like

    import lcne
    from lcne.analysis.vocabulary import FRONT_ENDS, LC_MODELS, METHODS as LOOKS, method_style
    from lcne.experiments.methods import METHODS

    assert set(METHODS) <= set(LOOKS), set(METHODS) - set(LOOKS)
    seen = {}
    for name in METHODS:
        look = method_style(name)
        assert look.label and is_color_like(look.colour) and look.linestyle in ("-", "--", "-.", ":"), name
        assert (look.colour, look.linestyle) not in seen, (name, seen.get((look.colour, look.linestyle)))
        seen[(look.colour, look.linestyle)] = name
    assert method_style("ngm").label == "NGM-SGD" and method_style("msgd").label == "MSGD"
    # every registered LC model and front end has a label, so explicit-LC names read as words
    from lcne.gain_controllers import CONTROLLERS

    assert set(CONTROLLERS) <= set(LC_MODELS), set(CONTROLLERS) - set(LC_MODELS)
    assert set(lcne.UNCERTAINTY_SIGNALS) <= set(FRONT_ENDS), set(lcne.UNCERTAINTY_SIGNALS) - set(FRONT_ENDS)
    phasic = method_style("ngm+gilzenrat-phasic")
    assert phasic.label == "NGM-SGD, Gilzenrat phasic" and phasic.colour == LC_MODELS["gilzenrat-phasic"].colour
    assert method_style("ngm+cpp").colour == method_style("ngm").colour  # paper integrator: the method's colour
    assert method_style("ngm+cpp").linestyle == "--"
    # fallback: unknown names keep their name and take the fixed cycle by position
    a, b = method_style("my-method", 0), method_style("my-method", 1)
    assert a.label == "my-method" and a.colour != b.colour and is_color_like(a.colour)
    assert method_style("ngm+my-lc", 2).label == "NGM-SGD, my-lc"


def test_no_other_analysis_module_keeps_a_metric_or_method_table():
    """A dict literal keyed by two or more metric keys or method names whose values are
    labels (str), directions (+-1) or colour references (``OKABE_ITO["blue"]``) is a second
    copy of the vocabulary."""
    import ast
    from pathlib import Path

    import lcne.analysis
    from lcne.analysis.vocabulary import METHODS, METRICS

    names = set(METRICS) | set(METHODS)
    root = Path(lcne.analysis.__file__).parent
    copies = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "vocabulary.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Dict):
                continue
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
            if len(set(keys) & names) >= 2 and node.values and all(map(_vocabulary_like, node.values)):
                copies.append(f"{path.relative_to(root)}:{node.lineno}")
    assert not copies, f"metric/method tables outside lcne.analysis.vocabulary: {copies}"


def _vocabulary_like(node) -> bool:
    import ast

    if isinstance(node, (ast.Subscript, ast.Name, ast.Attribute)):  # a colour or label reference
        return True
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return False
    return isinstance(value, str) or (type(value) is int and value in (1, -1))
