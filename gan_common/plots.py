"""Loss curves with matplotlib (Agg backend, no display needed)."""
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from gan_common.files import atomic_path  # noqa: E402


def plot_losses(series, path, title='losses', xlabel='iteration'):
    """``series``: {label: (iterations, values)}; writes one PNG."""
    figure, axes = plt.subplots(figsize=(7, 4))
    for label, (xs, ys) in series.items():
        axes.plot(xs, ys, label=label, linewidth=1)
    axes.set_xlabel(xlabel)
    axes.set_ylabel('loss')
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format='png', dpi=100)
    plt.close(figure)
    return path


def plot_log(log, keys, path, title='losses'):
    """Plot ``keys`` of a list of log entries (``log.jsonl`` rows)."""
    series = {}
    for key in keys:
        rows = [e for e in log if key in e]
        series[key] = ([e['iteration'] for e in rows], [e[key] for e in rows])
    return plot_losses(series, path, title)
