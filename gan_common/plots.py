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


def plot_along_run(result, path):
    """Four panels over the snapshots of ``result`` (as from
    ``bridge.along_run.evaluate_along_run``), real test images' values
    dashed: classes covered (a conditional model: its accuracy on the
    requested classes), classifier score, mean per-class MS-SSIM, and the
    share of each class as a stacked area (conditional: each class's MS-SSIM)."""
    entries, real = result['snapshots'], result['real']
    epochs = [e['epoch'] for e in entries]
    figure, axes = plt.subplots(2, 2, figsize=(9, 6), sharex=True)
    if result.get('conditional'):
        _accuracy_panel(axes[0, 0], epochs, entries, real)
        _class_diversity_panel(axes[1, 1], epochs, entries, real)
    else:
        _line_panel(axes[0, 0], epochs, [e['covered'] for e in entries], real['covered'], 'classes covered')
        _class_share_panel(axes[1, 1], epochs, entries)
    _line_panel(axes[0, 1], epochs, [e['classifier_score'][0] for e in entries], real['classifier_score'][0],
                'classifier score')
    axes[0, 1].set_ylim(0, 10.5)
    _line_panel(axes[1, 0], epochs, [e['diversity_mean'] for e in entries], real['diversity_mean'],
                'MS-SSIM, mean over classes (lower: more diverse)')
    axes[1, 0].axhline(real['diversity_max'], color='grey', linestyle=':', linewidth=1,
                       label='least diverse real class')
    axes[1, 0].legend(fontsize=7)
    for ax in axes[1]:
        ax.set_xlabel('epoch')
    figure.suptitle(f'{result["model"]} ({result["framework"]}, {result["preset"]}): '
                    f'{entries[0]["n_samples"]} samples a snapshot, the same noise', fontsize=10)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format='png', dpi=80)
    plt.close(figure)
    return path


def _line_panel(ax, epochs, values, reference, title, label=None):
    ax.plot(epochs, values, marker='o', markersize=3, linewidth=1, label=label)
    ax.axhline(reference, color='grey', linestyle='--', linewidth=1, label='real test images')
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)


def _accuracy_panel(ax, epochs, entries, real):
    _line_panel(ax, epochs, [e['accuracy'] for e in entries], real['accuracy'],
                'classifier accuracy on the requested class', label='all classes')
    ax.plot(epochs, [e['lowest_class_accuracy'] for e in entries], marker='o', markersize=3, linewidth=1,
            label='lowest class')
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7)


def _class_share_panel(ax, epochs, entries):
    shares = [[count / e['n_samples'] for count in e['histogram']] for e in entries]
    ax.stackplot(epochs, list(zip(*shares)), labels=[str(c) for c in range(len(shares[0]))],
                 colors=plt.get_cmap('tab10').colors)
    ax.set_ylim(0, 1)
    ax.set_title('share of each class (classifier)', fontsize=9)
    ax.legend(fontsize=7, loc='upper left', bbox_to_anchor=(1.01, 1.0), title='class', title_fontsize=7)


def _class_diversity_panel(ax, epochs, entries, real):
    colours = plt.get_cmap('tab10').colors
    for name in sorted(real['diversity_per_class'], key=int):
        ax.plot(epochs, [e['diversity_per_class'].get(name, float('nan')) for e in entries], marker='o', markersize=2,
                linewidth=1, color=colours[int(name) % len(colours)], label=name)
    ax.axhline(real['diversity_max'], color='grey', linestyle=':', linewidth=1, label='least diverse\nreal class')
    ax.set_title('MS-SSIM of each requested class', fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc='upper left', bbox_to_anchor=(1.01, 1.0), title='class', title_fontsize=7)
