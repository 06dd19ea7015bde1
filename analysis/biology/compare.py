"""Feature-by-feature comparison of model gain traces with biological reference values.

The model lives in training iterations, biology in milliseconds. Nothing here assumes a
conversion: every comparison goes through an explicit :class:`TimeMapping`, given by the
user (``ms_per_iteration``) or fitted to the timing features and always reported.

What is compared (model side measured at every task switch, median over runs and
switches; see :func:`model_response`):

==================  =========================================  ==================================
feature             model                                      reference
==================  =========================================  ==================================
latency             iterations until the gain excursion        LC phasic latency (rat 15-50 ms;
                    reaches 10 % of its peak, x mapping        monkey 90.7 ms)
decay_tau           decay time constant after the peak,        NE decay time constant (sensor
                    x mapping                                  kinetics, P; model convention, D)
peak_ratio          peak gain / tonic gain g0                  LC phasic / tonic firing rate
tonic_phasic_ratio  sustained (late-context) gain / peak gain  LC tonic / phasic firing rate
pupil_t_peak        peak time of the predicted pupil           Hoeks & Levelt kernel peak
pupil_fwhm          width of the predicted pupil response      kernel width (half maximum)
direction           sign of the gain change after a switch     NE raises input-output gain (+1)
==================  =========================================  ==================================

Rate ratios and gain ratios are different quantities; the ratio rows test only whether
the model's phasic/tonic contrast is of the biological order of magnitude.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np
import pandas as pd

from lcne.analysis.biology.observation import ne_sensor, pupil_response
from lcne.analysis.biology.reference import Reference, agreement_band, load_reference
from lcne.analysis.transients import fit_exp_decay, transient_features

__all__ = [
    "TimeMapping",
    "fit_time_mapping",
    "ModelResponse",
    "model_response",
    "curve_features",
    "BioComparison",
    "compare_to_biology",
    "DEFAULT_FIT_FEATURES",
]

log = logging.getLogger(__name__)

#: features whose reference values are used to fit the iteration -> ms mapping
DEFAULT_FIT_FEATURES = ("latency", "decay_tau")
#: assumed sensor kinetics when a user NE curve does not state them (ms)
DEFAULT_SENSOR_TAU_ON_MS = 100.0
DEFAULT_SENSOR_TAU_OFF_MS = 1000.0


# ------------------------------------------------------------------------------ mapping

@dataclass
class TimeMapping:
    """Explicit conversion between training iterations and milliseconds.

    Attributes
    ----------
    ms_per_iteration : float
        Milliseconds represented by one training iteration.
    source : {"given", "fitted"}
    fitted_on : tuple of str
        Comparison rows used for the fit (empty when given).
    log10_residuals : dict
        ``log10(model_ms / reference_ms)`` of each fitted row after the fit.
    """

    ms_per_iteration: float
    source: str = "given"
    fitted_on: tuple = ()
    log10_residuals: Dict[str, float] = field(default_factory=dict)

    def __post_init__(self):
        if not (np.isfinite(self.ms_per_iteration) and self.ms_per_iteration > 0):
            raise ValueError(f"ms_per_iteration: {self.ms_per_iteration!r} must be a positive number")

    def to_ms(self, iterations):
        """Iterations -> milliseconds."""
        return np.asarray(iterations, dtype=float) * self.ms_per_iteration

    def to_iterations(self, ms):
        """Milliseconds -> iterations."""
        return np.asarray(ms, dtype=float) / self.ms_per_iteration

    def describe(self) -> str:
        """One sentence that states the mapping and how it was obtained."""
        head = f"1 training iteration = {self.ms_per_iteration:.3g} ms"
        if self.source == "given":
            return head + " (given)"
        res = ", ".join(f"{k} {v:+.2f}" for k, v in self.log10_residuals.items())
        return head + f" (fitted in log time on {', '.join(self.fitted_on)}; log10 residuals {res})"

    def to_dict(self) -> dict:
        return dict(ms_per_iteration=self.ms_per_iteration, source=self.source, fitted_on=list(self.fitted_on),
                    log10_residuals=dict(self.log10_residuals), description=self.describe())


def fit_time_mapping(pairs: Dict[str, tuple]) -> TimeMapping:
    """Least-squares fit of one scale factor in log time.

    Parameters
    ----------
    pairs : dict
        ``{label: (model_iterations, reference_ms)}``. Pairs with a non-positive or
        non-finite member are skipped.

    Returns
    -------
    TimeMapping
        ``log10(ms_per_iteration) = mean(log10(reference_ms) - log10(model_iterations))``,
        which minimises the squared log residuals.
    """
    good = {k: (float(m), float(r)) for k, (m, r) in pairs.items()
            if np.isfinite(m) and np.isfinite(r) and m > 0 and r > 0}
    if not good:
        raise ValueError("cannot fit the time mapping: no model timing feature is measurable "
                         "(give ms_per_iteration instead)")
    logs = {k: math.log10(r) - math.log10(m) for k, (m, r) in good.items()}
    k = float(np.mean(list(logs.values())))
    mapping = TimeMapping(10**k, "fitted", tuple(good))
    mapping.log10_residuals = {lab: k - logs[lab] for lab in good}
    return mapping


# ------------------------------------------------------------------------ model side

@dataclass
class ModelResponse:
    """The model's response to task switches, in iterations.

    Attributes
    ----------
    features : dict
        Medians over runs and switches: ``latency``, ``t_peak``, ``fwhm``, ``decay_tau``
        (iterations); ``peak_ratio``, ``tonic_phasic_ratio``, ``direction``.
    spread : dict
        Interquartile range of each feature.
    excursion : ndarray
        Mean of ``signal(t) - signal(0)`` over runs and switches, t = 0..window.
    n_events : int
        Runs x switches averaged.
    tonic : float
        Tonic level used for ``peak_ratio`` (g0 for the gain).
    """

    features: Dict[str, float]
    spread: Dict[str, float]
    excursion: np.ndarray
    n_events: int
    tonic: float
    signal: str
    method: str
    per_event: pd.DataFrame


def model_response(results, *, method: str = "ngm", signal: str = "gain",
                   window: Optional[int] = None) -> ModelResponse:
    """Measure the phasic response of ``signal`` at every task switch of the results.

    Parameters
    ----------
    results : Dataset, path or sequence of them
    method : str
        Method whose trace is read.
    signal : str
        ``"gain"`` or an LC state variable (``"lc_v"``, ``"lc_u"``, ...).
    window : int, optional
        Iterations after each switch (default: the whole context).
    """
    from lcne.analysis.gap_gain import switch_starts
    from lcne.analysis.results_io import load_results, run_info

    from lcne.analysis.metrics import finite_curves

    rows, traces, tonics, diverged = [], [], [], []
    for ds in load_results(results):
        info = run_info(ds)
        if method not in [str(o) for o in ds["method"].values]:
            continue
        if signal not in ds.data_vars:
            raise ValueError(f"{info['source']}: missing data variable {signal!r}")
        I = info["iterations_per_task"]
        w = I if window is None else min(int(window), I)
        arr = ds[signal].sel({"method": method}).transpose("seed", "iteration").values
        alive, _, n_runs = finite_curves(ds, method)
        keep = [int(s) in set(alive) for s in ds["seed"].values]
        if n_runs - len(alive):
            diverged.append(f"{info['source']}: {n_runs - len(alive)} of {n_runs} seeds diverged")
        for seed_i, g in enumerate(arr):
            if not keep[seed_i]:  # a diverged run has no response to measure (left out, and said so)
                continue
            for k, s in switch_starts(I, info["n_tasks"]):
                seg = g[s - 1:s + w]
                pre = seg[0]
                late = float(np.median(g[s + w - max(1, w // 4):s + w]))
                tonic = info["g0"] if signal == "gain" else float(np.median(g[s - max(1, I // 4):s]))
                f = transient_features(seg, pre, fit_decay=False)
                tau = math.nan
                if np.isfinite(f["t_peak"]) and f["peak"] > 0:
                    ip = int(f["t_peak"])
                    if seg.size - ip >= 4:
                        tau = fit_exp_decay(np.arange(seg.size - ip, dtype=float), seg[ip:]).tau
                peak_val = f["peak_value"]
                rows.append(dict(source=info["source"], seed=int(ds["seed"].values[seed_i]), switch=k,
                                 latency=f["latency"], t_peak=f["t_peak"], fwhm=f["fwhm"], decay_tau=tau,
                                 peak_ratio=peak_val / tonic if tonic else math.nan,
                                 tonic_phasic_ratio=late / peak_val if peak_val else math.nan,
                                 direction=float(np.sign(peak_val - pre)) if np.isfinite(peak_val) else math.nan))
                traces.append(seg - pre)
                tonics.append(tonic)
    if not rows and diverged:
        raise ValueError(f"every run of method {method!r} diverged ({'; '.join(diverged)}): no response to compare")
    if not rows:
        raise ValueError(f"method {method!r} is in none of the results")
    for d in diverged:
        log.warning("%s of method %r: left out of the biology comparison", d, method)
    n = min(t.size for t in traces)
    excursion = np.nanmean(np.stack([t[:n] for t in traces]), axis=0)
    per_event = pd.DataFrame(rows)
    feats, spread = {}, {}
    for key in ("latency", "t_peak", "fwhm", "decay_tau", "peak_ratio", "tonic_phasic_ratio", "direction"):
        v = per_event[key].to_numpy(float)
        v = v[np.isfinite(v)]
        feats[key] = float(np.median(v)) if v.size else math.nan
        spread[key] = float(np.subtract(*np.percentile(v, [75, 25]))) if v.size else math.nan
    return ModelResponse(feats, spread, excursion, len(rows), float(np.median(tonics)), signal, method, per_event)


def curve_features(x, y, *, baseline: Optional[float] = None) -> Dict[str, float]:
    """Features of a reference or user curve (x in ms, uniform or not).

    The curve is resampled on a uniform grid at its smallest x spacing. ``baseline``
    defaults to the mean of samples with x < 0, else the first sample. Times are
    measured from x = 0 (the event).

    Returns
    -------
    dict
        ``latency``, ``t_peak``, ``fwhm``, ``decay_tau`` (ms), ``peak_ratio``
        (peak / baseline, NaN for a zero baseline).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    dx = float(np.min(np.diff(x)))
    grid = np.arange(max(x[0], 0.0), x[-1] + dx / 2, dx)
    yi = np.interp(grid, x, y)
    if baseline is None:
        baseline = float(np.mean(y[x < 0])) if np.any(x < 0) else float(y[0])
    f = transient_features(yi, baseline, dt=dx)
    off = grid[0]
    return dict(latency=f["latency"] + off, t_peak=f["t_peak"] + off, fwhm=f["fwhm"], decay_tau=f["tau_decay"],
                peak_ratio=f["peak_value"] / baseline if baseline else math.nan)


# -------------------------------------------------------------------------- comparison

@dataclass
class BioComparison:
    """Result of :func:`compare_to_biology`.

    Attributes
    ----------
    table : DataFrame
        One row per comparison: ``feature``, ``domain`` (raw, pupil, ne_sensor),
        ``model_value``, ``model_iterations`` (time features), ``units``, ``reference``
        (file name), ``label`` (short reference label),
        ``reference_value``, ``reference_low``, ``reference_high``, ``band_low``,
        ``band_high``, ``agree``, ``log10_ratio``, ``confidence``, ``citation``,
        ``used_in_fit`` (the row's reference value was used to fit the time mapping, so its
        agreement is partly by construction).
    mapping : TimeMapping
    response : ModelResponse
    pupil : DataFrame
        ``t_ms``, ``model`` (predicted pupil, peak-normalised), ``reference`` (kernel).
    """

    table: pd.DataFrame
    mapping: TimeMapping
    response: ModelResponse
    pupil: pd.DataFrame

    def summary(self) -> str:
        """Plain-text report: the mapping, then one line per feature."""
        lines = [f"time mapping: {self.mapping.describe()}",
                 f"model: {self.response.signal} of {self.response.method}, "
                 f"{self.response.n_events} switch events (median over runs and switches)"]
        for r in self.table.itertuples():
            verdict = "agree" if r.agree else "DISAGREE"
            fit = " (used in fit)" if getattr(r, "used_in_fit", False) else ""
            lines.append(f"{r.feature:<19} {r.domain:<6} model {r.model_value:>8.4g} {r.units:<2} | "
                         f"ref {r.reference_value:>8.4g} band [{r.band_low:.3g}, {r.band_high:.3g}] "
                         f"[{r.confidence}] {verdict:<8} {r.label}{fit}")
        lines.append("confidence: V checked against the source, P not checked, D derived/model, "
                     "schematic = not data")
        return "\n".join(lines)


def _row(feature, domain, model_value, units, ref: Reference, ref_value, low, high, confidence,
         model_iterations=math.nan, tolerance=None):
    tol = tolerance if tolerance is not None else ref.meta["tolerance"]
    band = agreement_band(low, high, tol)
    ok = bool(np.isfinite(model_value) and band[0] <= model_value <= band[1])
    ratio = (math.log10(model_value / ref_value)
             if np.isfinite(model_value) and model_value > 0 and ref_value > 0 else math.nan)
    return dict(feature=feature, domain=domain, model_value=float(model_value), model_iterations=model_iterations,
                units=units, reference=ref.name, label=str(ref.meta.get("short") or ref.name), reference_value=float(ref_value), reference_low=float(low),
                reference_high=float(high), band_low=band[0], band_high=band[1], agree=ok, log10_ratio=ratio,
                confidence=confidence, citation=ref.citation_line())


_TIME_FEATURES = ("latency", "t_peak", "fwhm", "decay_tau")


def _pupil_prediction(resp: ModelResponse, mapping: TimeMapping, kernel_ref: Reference) -> tuple:
    """Predicted pupil of the mean excursion, with 1 s of rest before the switch."""
    dt = mapping.ms_per_iteration
    pad = int(math.ceil(1000.0 / dt))
    x = np.concatenate([np.zeros(pad), resp.excursion[1:]])  # input from t = 1 on
    y = pupil_response(x, dt)
    t = (np.arange(y.size) - pad + 1) * dt  # end of each interval, ms after the switch
    return t, y


def compare_to_biology(results, *, method: str = "ngm", signal: str = "gain",
                       ms_per_iteration: Optional[float] = None,
                       fit_on: Sequence[str] = DEFAULT_FIT_FEATURES,
                       user_references: Iterable[Reference] = (), window: Optional[int] = None) -> BioComparison:
    """Compare a model's switch responses with the shipped (and any user) references.

    Parameters
    ----------
    results : Dataset, path or sequence of them
        ``lcne run`` results.
    method : str
        Method whose trace is compared (``"ngm"``: the only one with a moving gain).
    signal : str
        Model trace: ``"gain"`` or an LC state (``"lc_v"``...).
    ms_per_iteration : float, optional
        Time mapping. None fits it on the ``fit_on`` features (see
        :func:`fit_time_mapping`); the fitted value is reported either way.
    fit_on : sequence of str
        Raw-domain time features used for the fit (rows with confidence ``D`` excluded).
    user_references : iterable of Reference
        Extra curves or feature sets (:func:`~lcne.analysis.biology.reference.load_reference_file`,
        :func:`~lcne.analysis.biology.nwb.load_nwb_curve`).
    window : int, optional
        Iterations after each switch analysed.

    Returns
    -------
    BioComparison
    """
    resp = model_response(results, method=method, signal=signal, window=window)
    mf = resp.features
    rates = load_reference("lc_rates_carter2010")
    lat_refs = [load_reference("lc_latency_rat_astonjones1981"), load_reference("lc_latency_monkey_astonjones1994")]
    decay_refs = [load_reference("ne_clearance_sensor_feng2019"), load_reference("ne_clearance_model_gilzenrat2002")]
    kernel = load_reference("pupil_impulse_hoeks_levelt1993")
    sign_ref = load_reference("ne_gain_effects_spc1990")
    gz = load_reference("ne_gain_model_gilzenrat2002")

    # --- time mapping
    raw_time_refs = [("latency", r) for r in lat_refs] + [("decay_tau", r) for r in decay_refs]
    if ms_per_iteration is None:
        pairs = {}
        for feat, ref in raw_time_refs:
            row = ref.feature(feat)
            if feat in fit_on and row["confidence"] != "D":
                pairs[f"{feat}:{ref.name}"] = (mf[feat], row["value"])
        mapping = fit_time_mapping(pairs)
    else:
        mapping = TimeMapping(float(ms_per_iteration), "given")

    rows = []
    for feat, ref in raw_time_refs:
        r = ref.feature(feat)
        rows.append(_row(feat, "raw", mapping.to_ms(mf[feat]), "ms", ref, r["value"], r["low"], r["high"],
                         r["confidence"], model_iterations=mf[feat]))
    tonic, phasic = rates.feature("tonic_rate_wake"), rates.feature("phasic_rate")
    conf = "V" if tonic["confidence"] == phasic["confidence"] == "V" else "P"
    rows.append(_row("peak_ratio", "raw", mf["peak_ratio"], "1", rates, phasic["value"] / tonic["value"],
                     phasic["low"] / tonic["high"], phasic["high"] / tonic["low"], conf))
    rows.append(_row("tonic_phasic_ratio", "raw", mf["tonic_phasic_ratio"], "1", rates,
                     tonic["value"] / phasic["value"], tonic["low"] / phasic["high"], tonic["high"] / phasic["low"],
                     conf))
    p = gz.feature("peak_ratio_phasic")
    rows.append(_row("peak_ratio", "raw", mf["peak_ratio"], "1", gz, p["value"], p["low"], p["high"], "D"))
    s = sign_ref.feature("responsivity_change_sign")
    rows.append(_row("direction", "raw", mf["direction"], "1", sign_ref, s["value"], s["low"], s["high"],
                     s["confidence"]))

    # --- pupil domain
    t_ms, pup = _pupil_prediction(resp, mapping, kernel)
    after = t_ms >= 0
    pf = transient_features(pup[after], 0.0, dt=mapping.ms_per_iteration, fit_decay=False)
    t0 = t_ms[after][0]
    kf = curve_features(kernel.x, kernel.y, baseline=0.0)
    for feat, model_val in (("t_peak", pf["t_peak"] + t0), ("fwhm", pf["fwhm"])):
        rows.append(_row(f"pupil_{feat}", "pupil", model_val, "ms", kernel, kf[feat], kf[feat], kf[feat],
                         kernel.meta["confidence"]))
    ref_pupil = np.interp(t_ms, kernel.x, kernel.y, left=0.0, right=0.0)
    peak = np.nanmax(np.abs(pup)) if np.any(pup) else 1.0
    pupil_df = pd.DataFrame(dict(t_ms=t_ms, model=pup / peak, reference=ref_pupil))

    # --- user references
    for ref in user_references:
        rows.extend(_user_rows(ref, resp, mapping, t_ms, pup))
    table = pd.DataFrame(rows)
    fitted = {tuple(k.split(":", 1)) for k in mapping.fitted_on}
    table["used_in_fit"] = [(f, r) in fitted and d == "raw" for f, r, d in
                            zip(table["feature"], table["reference"], table["domain"])]
    return BioComparison(table, mapping, resp, pupil_df)


def _model_domain_features(domain: str, resp: ModelResponse, mapping: TimeMapping, t_ms, pup,
                           sensor: Optional[dict] = None) -> Dict[str, float]:
    """Model features (ms / ratios) in the domain a user curve was recorded in."""
    if domain == "pupil":
        after = t_ms >= 0
        f = transient_features(pup[after], 0.0, dt=mapping.ms_per_iteration)
        t0 = t_ms[after][0]
        return dict(latency=f["latency"] + t0, t_peak=f["t_peak"] + t0, fwhm=f["fwhm"], decay_tau=f["tau_decay"],
                    peak_ratio=math.nan, tonic_phasic_ratio=math.nan)
    if domain == "ne_sensor":
        sensor = sensor or {}
        dt = mapping.ms_per_iteration
        x = resp.excursion[1:]
        y = ne_sensor(np.concatenate([[0.0], x]), dt, float(sensor.get("tau_on_ms", DEFAULT_SENSOR_TAU_ON_MS)),
                      float(sensor.get("tau_off_ms", DEFAULT_SENSOR_TAU_OFF_MS)), initial=0.0)
        f = transient_features(y, 0.0, dt=dt)
        return dict(latency=f["latency"], t_peak=f["t_peak"], fwhm=f["fwhm"], decay_tau=f["tau_decay"],
                    peak_ratio=math.nan, tonic_phasic_ratio=math.nan)
    mf = resp.features
    out = {k: float(mapping.to_ms(mf[k])) for k in _TIME_FEATURES}
    out.update(peak_ratio=mf["peak_ratio"], tonic_phasic_ratio=mf["tonic_phasic_ratio"])
    return out


_DOMAIN_OF_SIGNAL = {"pupil": "pupil", "ne": "ne_sensor", "lc_rate": "raw", "gain": "raw"}


def _user_rows(ref: Reference, resp, mapping, t_ms, pup) -> List[dict]:
    rows = []
    if ref.kind == "curve":
        if ref.signal == "performance":
            log.info("%s: performance curves are shown, not compared feature by feature", ref.path)
            return rows
        domain = _DOMAIN_OF_SIGNAL[ref.signal]
        model = _model_domain_features(domain, resp, mapping, t_ms, pup, ref.meta.get("sensor"))
        cf = curve_features(ref.x, ref.y)
        for feat in ("latency", "t_peak", "fwhm", "decay_tau", "peak_ratio"):
            if np.isfinite(cf[feat]) and np.isfinite(model.get(feat, math.nan)):
                units = "1" if feat == "peak_ratio" else "ms"
                rows.append(_row(feat, domain, model[feat], units, ref, cf[feat], cf[feat], cf[feat],
                                 ref.meta["confidence"]))
        return rows
    model = _model_domain_features("raw", resp, mapping, t_ms, pup)
    for r in ref.data.itertuples():
        base = next((k for k in model if r.feature == k or r.feature.startswith(k + "_")), None)
        if base is None:
            log.info("%s: feature %r has no model counterpart; skipped", ref.path, r.feature)
            continue
        rows.append(_row(r.feature, "raw", model[base], r.units, ref, r.value, r.low, r.high, r.confidence))
    return rows
