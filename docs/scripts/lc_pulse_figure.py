"""Figure of the Gilzenrat et al. 2002 LC presets' response to a brief input pulse.

Gilzenrat MS, Holmes BD, Rajkowski J, Aston-Jones G, Cohen JD (2002) Simplified dynamics
in a model of noradrenergic modulation of cognitive performance. Neural Netw 15:647-663.

Usage: ``python docs/scripts/lc_pulse_figure.py [docs/figures/lc_pulse.png]``
"""
import sys
from pathlib import Path

import numpy as np

from lcne import GilzenratLC


def main(out="docs/figures/lc_pulse.png"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dt = 0.01
    drive = np.full(3000, 0.15)  # resting input w_vX1 f(X1) = 0.3 * 0.5
    drive[1000:1050] += 0.15  # 25 ms pulse at t = 10 units
    drive[1200:1250] += 0.15  # second pulse 100 ms later, inside the refractory window
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), constrained_layout=True)
    for name, color in (("gilzenrat2002_phasic", "tab:red"), ("gilzenrat2002_tonic", "tab:orange"),
                        ("nieuwenhuis2005", "tab:purple")):
        lc = GilzenratLC.preset(name)
        ds = lc.simulate(drive, dt)
        t_ms = ds.time_ms.values - 500.0
        axes[0].plot(t_ms, ds.h.values, color=color, label=f"{name} (C = {lc.C:g})")
        axes[1].plot(t_ms, ds.gain.values, color=color, label=f"{name} (k = {lc.k:g})")
    for ax in axes:
        for on in (0.0, 100.0):
            ax.axvspan(on, on + 25.0, color="0.85", lw=0)
        ax.set_xlim(-100, 1000)
        ax.set_xlabel("time from first pulse (ms; 1 model unit = 50 ms)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("LC activity h(v)")
    axes[1].set_ylabel("gain G + k u")
    axes[0].legend(fontsize=8)
    axes[0].set_title("two 25 ms input pulses 100 ms apart: burst, then a dip below rest", fontsize=10)
    axes[1].set_title("gain: the second pulse falls in the refractory window", fontsize=10)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=130)
    print(out)


if __name__ == "__main__":
    main(*sys.argv[1:])
