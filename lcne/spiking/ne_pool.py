"""The extracellular NE pool of the spiking LC population, solved exactly from its spikes.

Every spike adds ``release_nM`` to one pool that is cleared with a time constant; the pool
has no feedback onto the cells, so it is evaluated after the simulation (the same trace as
integrating it alongside, without a per-step cost). Used for the Brian2 population and for
the rate-matched Poisson control alike.
"""
from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

__all__ = ["ne_trace"]


def ne_trace(spike_times_ms, release_nM: float, tau_ms: float, n_samples: int, dt_ms: float) -> np.ndarray:
    """Extracellular NE sampled at ``t_k = k * dt_ms`` from the spikes of a population.

    Exact solution of ``dNE/dt = -NE / tau + release * sum_j delta(t - t_j)`` with
    ``NE = 0`` long before the first spike: ``NE(t) = release * sum_{t_j < t} exp(-(t - t_j)/tau)``.
    The pool has no feedback onto the cells, so evaluating it after the simulation gives
    the same trace as integrating it alongside, without a per-step cost.

    Parameters
    ----------
    spike_times_ms : array of float
        Spike times of all cells feeding the pool, ms (any order; negative times are
        spikes before the first sample, e.g. during a warm-up).
    release_nM : float
        NE added per spike, nM.
    tau_ms : float
        Clearance time constant, ms.
    n_samples : int
        Number of samples.
    dt_ms : float
        Sample interval, ms.

    Returns
    -------
    ndarray, shape (n_samples,), nM
    """
    if tau_ms <= 0 or dt_ms <= 0:
        raise ValueError("tau_ms and dt_ms must be > 0")
    t = np.asarray(spike_times_ms, dtype=float)
    early = t[t < 0.0]
    start = np.sum(np.exp(early / tau_ms))  # NE at t = 0 in units of release
    late = t[t >= 0.0]
    k = np.floor(late / dt_ms).astype(np.int64)
    late, k = late[k < n_samples - 1], k[k < n_samples - 1]
    # each spike in [t_k, t_k+1) has decayed by exp(-(t_k+1 - t_j)/tau) at the next sample
    inflow = np.zeros(n_samples)
    np.add.at(inflow, k + 1, np.exp(-((k + 1) * dt_ms - late) / tau_ms))
    decay = np.exp(-dt_ms / tau_ms)
    inflow[0] += start
    return release_nM * lfilter([1.0], [1.0, -decay], inflow)
