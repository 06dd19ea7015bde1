"""Parameters of the spiking LC population, with units and sources.

Every field of :class:`LCParams` has its unit in its name and ``metadata`` with
``unit``, ``doc`` and ``source``; :func:`parameter_table` lists them (the table in
``docs/spiking.md`` is generated from it). "Tuned" in a source means we chose the value
so that the model meets the acceptance target named there; "chosen" means a plausible
value that no check constrains.
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Dict, List

__all__ = ["LCParams", "SPECIES_PRESETS", "parameter_table"]

log = logging.getLogger(__name__)


def _p(default, unit: str, doc: str, source: str):
    return field(default=default, metadata={"unit": unit, "doc": doc, "source": source})


@dataclass(frozen=True)
class LCParams:
    """Parameters of the spiking LC population; units are in the field names.

    Every field carries ``metadata`` with ``unit``, ``doc`` and ``source``;
    :func:`parameter_table` prints them. "Tuned" means chosen by us so that the model meets
    the acceptance target named in the source column; "chosen" means a plausible value that
    no check constrains.
    """

    # membrane
    c_m_pF: float = _p(100.0, "pF", "membrane capacitance", "chosen (large LC somata); not fitted")
    g_leak_nS: float = _p(4.0, "nS", "leak conductance (input resistance 250 MOhm, tau_m 25 ms)", "chosen; not fitted")
    e_leak_mV: float = _p(-60.0, "mV", "leak reversal / rest", "rest of the Carter et al. 2012 LC model (PNAS; ModelDB 145162)")
    v_threshold_mV: float = _p(-50.0, "mV", "spike threshold", "chosen")
    v_reset_mV: float = _p(-65.0, "mV", "reset after a spike (fast AHP trough)", "chosen")
    refractory_ms: float = _p(5.0, "ms", "absolute refractory period (broad LC spikes)", "chosen")
    # pacemaking
    pacemaker_pA: float = _p(
        50.0, "pA", "mean constant pacemaker current",
        "tuned to a tonic rate of ~2 Hz (target 1-3 Hz: Carter et al. 2010, Nat Neurosci 13:1526)")
    pacemaker_cv: float = _p(
        0.05, "1", "coefficient of variation of the pacemaker current across cells (intrinsic frequency spread)",
        "spread of intrinsic frequencies as in Brown et al. 2004 (J Comput Neurosci 17:13); value chosen")
    noise_mV: float = _p(0.5, "mV", "sd of the free membrane-potential fluctuation (white current noise)",
                         "chosen small: pacemaker-dominated firing (larger noise makes firing noise-driven and "
                         "removes the tonic/phasic trade-off, see docs/spiking.md)")
    # slow AHP / adaptation
    tau_ahp_ms: float = _p(250.0, "ms", "decay time constant of the slow AHP current",
                           "chosen in 100-500 ms, a slow AHP long enough for a post-burst pause of a few hundred ms")
    b_ahp_pA: float = _p(40.0, "pA", "slow AHP increment per spike",
                         "tuned to a post-burst pause of 200-500 ms (reviews, e.g. Aston-Jones & Cohen 2005; "
                         "not checked against a primary source, see docs/biological_reference.md)")
    # gap junctions
    g_gap_nS: float = _p(0.2, "nS", "conductance of one gap junction; the analogue of the rate model's C",
                         "coupling as coherence C: Usher et al. 1999 (Science 283:549), Gilzenrat et al. 2002 "
                         "(Neural Netw 15:647); value chosen")
    gap_partners: float = _p(8.0, "1", "mean number of gap-junction partners per cell (random, symmetric)", "chosen")
    spikelet_mV_ms: float = _p(60.0, "mV*ms", "voltage-time area of a spike that a junction passes to a partner "
                               "(the LIF has no spike shape)", "chosen (a ~1 ms spike ~60 mV above threshold)")
    # afferent input
    input_pA: float = _p(40.0, "pA", "input current per unit of stimulus s",
                         "tuned to 1-3 spikes at 10-20 Hz for a 100 ms pulse (10-20 Hz and 2-3 spikes as quoted in "
                         "reviews, not checked); the verified 8-10 Hz bursts (Carter et al. 2010) are not met")
    input_spread: float = _p(0.3, "1", "afferent weights are uniform on [1 - spread, 1 + spread]", "chosen")
    afferent_delay_ms: float = _p(15.0, "ms", "delay of the sensory pathway before LC (species preset)",
                                  "chosen so that latency lands in the species range (rat 15-60 ms)")
    afferent_tau_ms: float = _p(5.0, "ms", "low-pass time constant of the afferent input", "chosen")
    # NE release
    tau_ne_ms: float = _p(250.0, "ms", "clearance time constant of extracellular NE",
                          "'model' preset 0.25 s: Gilzenrat et al. 2002 tau_u ~ 250 ms, NEST tau_n 200 ms "
                          "(Potjans et al. 2010); see docs/lc_models.md section 2")
    ne_per_spike_nM: float = _p(
        14.0 / (1500 * 2.0 * 0.25), "nM", "NE added to the pool by one spike of one real LC cell",
        "derived: basal NE 14 nM (Abercrombie et al. 1988) = 1500 cells x 2 Hz x tau_NE 0.25 s x q")
    nucleus_cells: float = _p(1500.0, "1", "LC cells in the nucleus; each model cell stands for nucleus_cells/n_cells",
                              "~1,500 per rat LC (Foote, Bloom & Aston-Jones 1983, Physiol Rev 63:844, via a secondary "
                              "source; not checked)")
    # numerics
    dt_ms: float = _p(0.1, "ms", "integration step (Euler-Maruyama)", "numerics")
    record_dt_ms: float = _p(1.0, "ms", "sampling interval of rate and NE", "numerics")

    def replace(self, **changes) -> "LCParams":
        """A copy with ``changes``; unknown names raise ``ValueError``."""
        known = {f.name for f in dataclasses.fields(self)}
        bad = sorted(set(changes) - known)
        if bad:
            raise ValueError(f"unknown LC parameter(s) {bad}; known: {', '.join(sorted(known))}")
        return dataclasses.replace(self, **{k: float(v) for k, v in changes.items()})

    @classmethod
    def for_species(cls, species: str = "rat", **changes) -> "LCParams":
        """Defaults with the species preset (see :data:`SPECIES_PRESETS`) and ``changes``."""
        if species not in SPECIES_PRESETS:
            raise ValueError(f"unknown species {species!r}; known: {', '.join(SPECIES_PRESETS)}")
        return cls().replace(**{**SPECIES_PRESETS[species], **changes})

    def to_dict(self) -> Dict[str, float]:
        return dataclasses.asdict(self)


#: parameter changes per species (the afferent delay sets the response latency)
SPECIES_PRESETS: Dict[str, Dict[str, float]] = {
    "rat": {"afferent_delay_ms": 15.0},
    "monkey": {"afferent_delay_ms": 75.0},
}



def parameter_table() -> List[Dict[str, str]]:
    """One row per :class:`LCParams` field: name, default, unit, meaning, source."""
    rows = []
    for f in dataclasses.fields(LCParams):
        rows.append({"name": f.name, "default": f"{f.default:.4g}", "unit": f.metadata["unit"],
                     "doc": f.metadata["doc"], "source": f.metadata["source"]})
    return rows
