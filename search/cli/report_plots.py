"""The report's figures (matplotlib, Agg backend: no display needed), as PNG bytes.

Each function takes the series of :mod:`search.cli.run_series` and returns the PNG file's
bytes, so the caller decides where (and how atomically) they are written.

Example:
    >>> png = fitness_png({"x": [1, 2, 3], "best": [0.0, 0.1, 0.1],
    ...                    "median": [0.0, 0.0, 0.05], "window": 2}, None)
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
"""

from __future__ import annotations

import io

LION_COLOUR = "tab:red"


def _figure():
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI

    figure = Figure(figsize=(7.5, 3.6), dpi=100, layout="constrained")
    return figure, figure.add_subplot()


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _no_data(axes, what: str) -> None:
    axes.text(0.5, 0.5, f"no {what} yet", ha="center", va="center",
              transform=axes.transAxes, color="grey")


def fitness_png(series: dict, lion: dict | None) -> bytes:
    """Best (top panel) and median (bottom panel) fitness against programs evaluated;
    the first Lion-family program as a vertical line (``lion``:
    :func:`search.cli.run_series.first_lion`). Two panels, because a median pulled down by
    failed programs (fitness -10) would flatten the best curve on one scale."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 5.0), dpi=100, layout="constrained")
    best_axes, median_axes = figure.subplots(2, 1, sharex=True)
    if series["x"]:
        best_axes.plot(series["x"], series["best"], color="tab:blue", drawstyle="steps-post")
        median_axes.plot(series["x"], series["median"], color="tab:orange")
    else:
        _no_data(best_axes, "evaluated programs")
    found = lion and lion.get("status") == "found" and lion.get("joined_rank")
    for axes in (best_axes, median_axes):
        if found:
            axes.axvline(lion["joined_rank"], color=LION_COLOUR, linestyle="--",
                         label=f"first Lion-family (program {lion['id']})")
        axes.grid(alpha=0.3)
    best_axes.set_ylabel("best so far")
    median_axes.set_ylabel(f"median of last {series['window']}")
    best_axes.set_title("fitness (0 = AdamW, higher is better)")
    median_axes.set_xlabel("programs evaluated (with a fitness; cache hits included)")
    if found:
        best_axes.legend(loc="lower right", fontsize="small")
    return _png(figure)


def rates_png(series: dict) -> bytes:
    """Cache-hit rate, invalid share and failed-evaluation share over elapsed time."""
    figure, axes = _figure()
    if series["elapsed"]:
        axes.plot(series["elapsed"], series["cache_hit_rate"], label="cache-hit rate")
        axes.plot(series["elapsed"], series["invalid_share"],
                  label="invalid mutation draws (share of draws)")
        axes.plot(series["elapsed"], series["failed_share"],
                  label="failed evaluations (share)")
        axes.legend(loc="best", fontsize="small")
    else:
        _no_data(axes, "statistics")
    axes.set_ylim(-0.02, 1.02)
    axes.set_xlabel("elapsed (s)")
    axes.set_ylabel("share")
    axes.set_title("cache hits and invalid programs over time")
    axes.grid(alpha=0.3)
    return _png(figure)


def length_png(series: dict, lion: dict | None) -> bytes:
    """Statements and live statements per program against programs generated."""
    figure, axes = _figure()
    if series["x"]:
        axes.scatter(series["x"], series["statements"], s=4, alpha=0.25,
                     color="tab:grey", label="statements")
        axes.plot(series["x"], series["mean_statements"], color="tab:blue",
                  label=f"mean statements (last {series['window']})")
        axes.plot(series["x"], series["mean_live"], color="tab:green",
                  label=f"mean live statements (last {series['window']})")
        axes.legend(loc="best", fontsize="small")
    else:
        _no_data(axes, "programs")
    if lion and lion.get("status") == "found":
        axes.axvline(lion["id"], color=LION_COLOUR, linestyle="--")
    axes.set_xlabel("programs generated (program id)")
    axes.set_ylabel("statements")
    axes.set_title("program length")
    axes.grid(alpha=0.3)
    return _png(figure)
