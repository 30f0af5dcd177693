"""Bar charts of the comparison, written as PNG files (matplotlib's Agg backend, no display)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

FIGURES = (
    ("inside_window_share", "Pickups inside the window", "share"),
    ("km_per_pickup", "Driving per pickup", "km"),
    ("first_choice_share", "Buyers who got their first-choice window", "share"),
    ("pickups_per_courier_hour", "Pickups per courier hour", "pickups / h"),
)


def write_plots(report: dict[str, object], out_dir: Path) -> list[Path]:
    """One bar chart per figure, policies side by side; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")  # files only: never needs a display
    import matplotlib.pyplot as plt

    policies = report["policies"]
    assert isinstance(policies, dict)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = list(policies)
    written = []
    for key, title, unit in FIGURES:
        values = [float(policies[n][key]) for n in names]
        fig, ax = plt.subplots(figsize=(6, 3.5))
        bars = ax.bar(
            names,
            values,
            color=["#888888", "#bbbbbb", "#3b7dd8", "#2ca25f", "#e08a2c"][: len(names)],
        )
        ax.bar_label(bars, fmt="%.3g")
        ax.set_title(title)
        ax.set_ylabel(unit)
        fig.tight_layout()
        path = out_dir / f"{key}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    written.append(_eta_plot(plt, policies, out_dir))
    return written


def _eta_plot(plt: Any, policies: dict[str, Any], out_dir: Path) -> Path:
    """ETA error p90 per moment shown, policies side by side (grouped bars)."""
    from doorstep.simulation.eta import HORIZONS

    names = list(policies)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        errors = policies[name].get("eta_error", {})
        values = [float(errors.get(h, {}).get("p90_min", 0.0)) for h in HORIZONS]
        xs = [h + i * width for h in range(len(HORIZONS))]
        bars = ax.bar(xs, values, width, label=name)
        ax.bar_label(bars, fmt="%.0f", fontsize=7)
    ax.set_xticks([h + width * (len(names) - 1) / 2 for h in range(len(HORIZONS))])
    ax.set_xticklabels([h.replace("_", " ") for h in HORIZONS])
    ax.axhline(15, color="#cc3333", linewidth=1, linestyle="--", label="goal from the morning on")
    ax.set_title("ETA error, 90th percentile")
    ax.set_ylabel("minutes")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = out_dir / "eta_error_p90.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
