"""Bar charts of the comparison, written as PNG files (matplotlib's Agg backend, no display)."""

from __future__ import annotations

from pathlib import Path

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
            names, values, color=["#888888", "#bbbbbb", "#3b7dd8", "#2ca25f"][: len(names)]
        )
        ax.bar_label(bars, fmt="%.3g")
        ax.set_title(title)
        ax.set_ylabel(unit)
        fig.tight_layout()
        path = out_dir / f"{key}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written
