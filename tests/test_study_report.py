"""The study report: claim families as data, verdicts and generated sentences of a synthetic
study whose answers are built in, Holm over the claims that ran, the convention section,
merging, the forest plot and ``lcne study-report``."""
import json
from collections import Counter

import numpy as np
import pytest
import xarray as xr

from lcne.analysis.study_claims import CLAIMS, FAMILIES, STUDY_BENCHMARKS, VERDICTS, claims_of
from lcne.analysis.study_report import build_study_report, convention_changes, study_tables, summary_sentences
from lcne.experiments.cli import main

SEEDS = tuple(range(1000, 1012))  # 12 seeds: smallest exact p 2/4096


def _bench(name, gaps, seeds=SEEDS, start=None, diverged=(), ipt=4, T=3, lr=0.01):
    """Results of one benchmark (docs/results-schema.md), built by hand: every curve starts
    at ``start[method][seed]`` (default 0.5), reaches 1.0 and dips to 1 - gap at the first
    iteration of each later context. So per seed: avg-ACC = 100 %, avg-SG = gap, M_2..M_T =
    1 - gap, M_1 = start; ``diverged``: (method, seed) pairs cut to NaN after iteration 5."""
    methods = list(gaps)
    acc = np.ones((len(methods), len(seeds), ipt * T, 1))
    div = np.full((len(methods), len(seeds)), -1, np.int64)
    for i, m in enumerate(methods):
        acc[i, :, 0, 0] = (start or {}).get(m, [0.5] * len(seeds))
        for j, g in enumerate(gaps[m]):
            for k in range(1, T):
                acc[i, j, k * ipt, 0] = 1 - g
    for m, s in diverged:
        i, j = methods.index(m), list(seeds).index(s)
        acc[i, j, 5:, 0] = np.nan
        div[i, j] = 5
    return xr.Dataset(
        {"accuracy": (("method", "seed", "iteration", "eval_task"), acc),
         "gain": (("method", "seed", "iteration"), np.ones(acc.shape[:3])),
         "diverged_at": (("method", "seed"), div)},
        coords={"method": methods, "seed": list(seeds), "iteration": np.arange(ipt * T), "eval_task": [1]},
        attrs={"benchmark": name, "iterations_per_task": ipt, "n_tasks": T, "lcne_schema_version": 2,
               "data_source": "synthetic", "config": json.dumps({"lr": lr})})


def _study():
    """NGM better than SGD on split-mnist (gap 0.02-0.03 against 0.30-0.35, one SGD seed
    diverged), identical on rotated-mnist (the same gaps for both)."""
    rng = np.random.default_rng(0)
    ngm = list(0.02 + 0.01 * rng.random(12))
    sgd = list(0.30 + 0.05 * rng.random(12))
    same = list(0.10 + 0.05 * rng.random(12))
    return [_bench("split-mnist", {"ngm": ngm, "sgd": sgd}, diverged=[("sgd", 1003)]),
            _bench("rotated-mnist", {"ngm": same, "sgd": same})]


def test_claim_families_are_the_pre_registered_ones():
    sizes = Counter(c.family for c in CLAIMS)
    assert sizes == {"F1": 18, "F2": 18, "F3": 30, "F4": 24, "F5": 24, "F6": 12} and len(CLAIMS) == 126
    assert all(FAMILIES[f].size == n for f, n in sizes.items())
    assert list(STUDY_BENCHMARKS.values()) == [20, 20, 20, 12, 12, 12]
    f3 = {(c.a, c.b) for c in claims_of("F3")}
    assert f3 == {("ngm", b) for b in ("fixed-gain", "shuffled-gain", "lr-replay", "switch-burst", "entropy-lr")}
    assert {(c.metric, c.a, c.b) for c in claims_of("F5")} == {
        (m, a, "ngm") for m in ("avg_sg", "wc_acc") for a in ("ngm+gilzenrat-phasic", "ngm+adaptive")}
    assert {c.metric for c in claims_of("F2")} == {"wc_acc"}
    assert len(set(CLAIMS)) == 126  # no claim twice
    with pytest.raises(KeyError, match="unknown claim family 'F7'"):
        claims_of("F7")


def test_synthetic_study_verdicts_and_holm_over_the_claims_that_ran():
    t = study_tables(_study())
    c = t.claims.set_index(["family", "benchmark", "metric", "a", "b"])
    split = c.loc[("F1", "split-mnist", "avg_sg", "ngm", "sgd")]
    rot = c.loc[("F1", "rotated-mnist", "avg_sg", "ngm", "sgd")]
    # split-mnist: 11 pairs (seed 1003 of sgd diverged), every difference negative
    assert (split["n"], split["n_pairs"], split["n_excluded"], split["k"]) == (11, 12, 1, 11)
    assert split["p"] == 2 / 2**11
    # Holm over the 2 F1 claims that ran (16 not run): 2 * p, not 18 * p
    assert split["p_holm"] == pytest.approx(2 * 2 / 2**11)
    assert split["verdict"] == "A better" and split["mean"] < 0
    assert split["t_low"] < split["mean"] < split["t_high"] < 0 and split["bca_low"] < split["mean"] < split["bca_high"]
    # rotated-mnist: identical runs, every difference zero
    assert (rot["n"], rot["mean"], rot["p"], rot["p_holm"], rot["ties"]) == (12, 0.0, 1.0, 1.0, 12)
    assert rot["verdict"] == "no difference detected" and (rot["t_low"], rot["t_high"]) == (0.0, 0.0)
    # WC-ACC (after-first) = F_T/T + (1 - 1/T) mean(M_2, M_3) = 1/3 + 2/3 (1 - gap): NGM higher on split-mnist
    wc = c.loc[("F2", "split-mnist", "wc_acc", "ngm", "sgd")]
    ngm = t.seeds[(t.seeds["benchmark"] == "split-mnist") & (t.seeds["method"] == "ngm")].set_index("seed")
    assert ngm.loc[1000, "wc_acc"] == pytest.approx(1 / 3 + 2 / 3 * (1 - ngm.loc[1000, "avg_sg"]))
    assert wc["verdict"] == "A better" and wc["mean"] > 0  # in percentage points
    # everything else is listed as not run, with the reason
    assert Counter(t.claims["verdict"]) == {"not run": 122, "A better": 2, "no difference detected": 2}
    assert c.loc[("F1", "split-mnist", "avg_sg", "ngm", "msgd"), "reason"] == "msgd not in the results"
    assert c.loc[("F1", "permuted-mnist", "avg_sg", "ngm", "sgd"), "reason"] == "benchmark not in the results"
    assert c.loc[("F6", "split-mnist", "avg_sg", "msgd-reset", "msgd"), "reason"] == \
        "msgd-reset and msgd not in the results"
    assert np.isnan(c.loc[("F1", "split-mnist", "avg_sg", "ngm", "msgd"), "p_holm"])
    assert set(t.claims["verdict"]) <= set(VERDICTS)
    runs = t.runs.set_index(["benchmark", "method"])
    assert tuple(runs.loc[("split-mnist", "sgd"), ["n_runs", "n_finished", "n_diverged"]]) == (12, 11, 1)


def test_generated_sentences_say_exactly_what_was_built():
    t = study_tables(_study())
    s = summary_sentences(t.claims)
    rest = "permuted-mnist, split-fashion-mnist, permuted-fashion-mnist, rotated-fashion-mnist"
    assert ("NGM-SGD had a smaller avg-SG than SGD on 1 of 2 benchmarks run (Holm-adjusted p < 0.05: split-mnist); "
            f"no difference was detected on 1 (rotated-mnist); not run on 4 ({rest}).") in s
    assert ("NGM-SGD had a higher WC-ACC than SGD on 1 of 2 benchmarks run (Holm-adjusted p < 0.05: split-mnist); "
            f"no difference was detected on 1 (rotated-mnist); not run on 4 ({rest}).") in s
    assert "F1 (gap against tuned optimisers): 2 of 18 claims ran; 1 A better, 0 A worse, 1 no difference " \
           "detected (Holm over the 2 that ran, alpha = 0.05)." in s
    assert "NGM-SGD against MSGD in avg-SG: not run on any benchmark." in s
    # reversed: SGD built better -> "on none ...; a larger one on 1"
    rng = np.random.default_rng(1)
    worse = study_tables([_bench("split-mnist", {"ngm": list(0.3 + 0.01 * rng.random(12)),
                                                 "sgd": list(0.05 + 0.01 * rng.random(12))})])
    s = summary_sentences(worse.claims)
    assert any(x.startswith("NGM-SGD had a smaller avg-SG than SGD on none of the 1 benchmarks run; a larger one on 1 "
                            "(Holm-adjusted p < 0.05: split-mnist); not run on 5") for x in s), s


def test_report_sections(tmp_path):
    text = build_study_report(_study(), protocol_commit="0123abc", deviations=["the MNIST part ran on 2 cores"])
    assert "`docs/study_protocol.md` as committed at `0123abc`" in text
    for head in ("## Summary", "## Statistics and verdict words", "### F1: gap against tuned optimisers",
                 "### F6: optimizer resets", "## Metrics per benchmark", "### split-mnist",
                 "## Verdicts that change under the code convention", "## Deviations from the protocol"):
        assert head in text, head
    assert "- the MNIST part ran on 2 cores" in text
    assert "- **A better**: the Holm-adjusted two-sided exact sign-flip p < 0.05" in text
    assert "never read this as \"equivalent\"" in text
    # the power note per family, with the seed counts of the claims that ran
    assert ("Power: 2 tests, Holm threshold for the smallest p: 0.05/2 = 0.025; with 12 seeds the smallest exact p "
            "is 2/2^12 = 0.000488: can reach significance; with 11 seeds") in text
    assert "Holm over the 2 that ran; 16 not run, listed, left out of the correction." in text
    assert "| split-mnist | ngm vs sgd | avg-SG | 11 (1) |" in text and "| 11/11 | **A better** |" in text
    assert "| split-mnist | ngm vs msgd | avg-SG | — | — | — | — | — | — | — | not run (msgd not in the results) |" in text
    assert "Diverged runs, left out of every metric and (pairwise) of every test: sgd: 1 of 12 seeds." in text
    assert "| sgd | 0.01 | 11 / 12 |" in text
    assert "0.034 (s)" in text and "0.008 (r)" in text  # paper avg-SG of SGD on Split MNIST, with provenance
    assert "None: every verdict is the same under the code convention." in text
    assert "**Protocol commit not given**" in build_study_report(_study())


def test_convention_change_section_lists_the_verdicts_that_change():
    # identical gaps, but SGD starts lower (M_1, the untrained accuracy): the code
    # convention's avg-min-ACC includes M_1, so only there NGM has the higher WC-ACC
    rng = np.random.default_rng(2)
    gaps = list(0.1 + 0.05 * rng.random(12))
    start = {"ngm": list(0.5 + 0.01 * rng.random(12)), "sgd": list(0.1 + 0.01 * rng.random(12))}
    data = [_bench("permuted-mnist", {"ngm": gaps, "sgd": gaps}, start=start)]
    after, code = study_tables(data), study_tables(data, convention="code")
    ch = convention_changes(after, code)
    assert len(ch) == 1
    r = ch.iloc[0]
    assert (r["family"], r["benchmark"], r["metric"], r["a"], r["b"]) == ("F2", "permuted-mnist", "wc_acc", "ngm", "sgd")
    assert (r["verdict"], r["verdict_other"]) == ("no difference detected", "A better")
    text = build_study_report(data)
    assert ("| F2 | permuted-mnist | ngm vs sgd | WC-ACC | no difference detected | 1.000 | A better | 4.9e-04 |"
            in text)


def test_merge_combines_files_and_refuses_overlaps():
    from lcne.analysis.report import merge_results

    rng = np.random.default_rng(3)
    one = _bench("split-mnist", {"ngm": list(rng.random(12) * 0.1), "sgd": list(rng.random(12) * 0.1)})
    other = _bench("split-mnist", {"msgd": list(rng.random(6) * 0.5)}, seeds=SEEDS[:6], lr=0.003)
    more = _bench("split-mnist", {"msgd": list(rng.random(6) * 0.5)}, seeds=SEEDS[6:], lr=0.003)
    merged = merge_results([one, other, more])["split-mnist"]
    assert [str(m) for m in merged["method"].values] == ["ngm", "sgd", "msgd"]
    assert merged.sizes["seed"] == 12 and float(merged["lr"].sel({"method": "msgd"})) == 0.003
    t = study_tables([one, other, more]).claims.set_index(["family", "benchmark", "metric", "a", "b"])
    assert t.loc[("F1", "split-mnist", "avg_sg", "ngm", "msgd"), "n"] == 12
    with pytest.raises(ValueError, match="method 'msgd' seed 1000 is in both"):
        merge_results([one, other, other])
    with pytest.raises(ValueError, match="different learning rates"):
        merge_results([other, _bench("split-mnist", {"msgd": [0.1] * 6}, seeds=SEEDS[6:], lr=0.01)])
    # seeds one method did not run are not counted as runs (nor as diverged)
    half = study_tables([one, other]).runs.set_index(["benchmark", "method"])
    assert tuple(half.loc[("split-mnist", "msgd"), ["n_runs", "n_diverged"]]) == (6, 0)


def test_forest_figure_one_panel_per_family_and_metric_that_ran():
    from lcne.analysis.study_figure import forest_figure

    fig = forest_figure(study_tables(_study()))
    axes = fig.axes
    assert [a.get_title(loc="left") for a in axes] == [
        "F1 gap against tuned optimisers: avg-SG (16 of 18 not run)",
        "F2 accuracy against tuned optimisers: WC-ACC (16 of 18 not run)"]
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ["split-mnist: ngm vs sgd", "rotated-mnist: ngm vs sgd"]
    markers = [ln for ln in axes[0].lines if ln.get_marker() == "o"]
    filled = [ln.get_markerfacecolor() != "white" for ln in markers]
    assert filled == [True, False]  # split-mnist significant, rotated-mnist not
    assert "No claim ran in F3, F4, F5, F6." in fig.texts[0].get_text()


def test_cli_writes_report_and_figure(tmp_path, capsys):
    paths = []
    for ds in _study():
        p = tmp_path / f"{ds.attrs['benchmark']}.nc"
        ds.to_netcdf(p, engine="h5netcdf")
        paths.append(str(p))
    dev = tmp_path / "deviations.txt"
    dev.write_text("# deviations from the protocol\n- the first\n\n* the second\n")
    out = tmp_path / "docs" / "study.md"
    assert main(["study-report", *paths, "--out", str(out), "--figure", str(tmp_path / "docs" / "figures" / "s.png"),
                 "--protocol-commit", "abc1234", "--deviations", str(dev)]) == 0
    text = out.read_text()
    assert "![Effects with 95 % t intervals per family and benchmark](figures/s.png)" in text
    assert "- the first\n- the second\n" in text and "`abc1234`" in text
    assert (tmp_path / "docs" / "figures" / "s.png").stat().st_size > 10_000
    assert not (tmp_path / "docs" / "figures" / "s.pdf").exists()  # the suffix chose the format
    assert sorted(p.name for p in out.parent.iterdir()) == ["figures", "study.md"]  # no temporary left
    # a folder of results reads the same
    assert main(["study-report", str(tmp_path), "--out", str(tmp_path / "b.md")]) == 0
    assert "| split-mnist | ngm vs sgd | avg-SG | 11 (1) |" in (tmp_path / "b.md").read_text()
    capsys.readouterr()
    assert main(["study-report", *paths, "--out", str(tmp_path / "c.md"), "--deviations", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"lcne: error: --deviations {tmp_path / 'nope'}: file not found; give a text file with one "
                   f"deviation per line"]
    assert not (tmp_path / "c.md").exists()


def test_cli_checks_its_outputs_before_any_work(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    res = tmp_path / "r.nc"
    _study()[0].to_netcdf(res, engine="h5netcdf")
    assert main(["study-report", str(res), "--out", str(blocker / "study.md")]) == 2
    assert main(["study-report", str(res), "--out", str(tmp_path / "s.md"), "--figure", str(blocker / "f.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("cannot write there" in e for e in err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "r.nc"]  # nothing written
    text = build_study_report(_study())
    assert "Results: 2 files; code revision `not recorded` (2)." in text
