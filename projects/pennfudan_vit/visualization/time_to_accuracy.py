"""AP versus training time of both systems: seed mean with the min-max band."""
from itertools import cycle
from typing import Any, Dict, Iterable

COLOURS = {'ours': 'tab:red', 'reference': 'tab:blue', 'reference-torchvision': 'tab:green'}
# variants (``--label``) take these in order, never a colour of the fixed curves
OTHER_COLOURS = ('tab:orange', 'tab:purple', 'tab:brown', 'tab:pink', 'tab:olive',
                 'tab:cyan', 'tab:gray')
LABELS = {'ours': 'ours', 'reference': 'torchvision reference, our optimizer',
          'reference-torchvision': 'torchvision reference, tutorial SGD'}


def curve_colours(names: Iterable[str]) -> Dict[str, str]:
    """One distinct colour per curve: the fixed ones for the systems, then the variants'."""
    others = cycle(OTHER_COLOURS)
    return {n: COLOURS[n] if n in COLOURS else next(others) for n in names}


def plot_time_to_accuracy(summary: Dict[str, Any], out: str) -> str:
    """Plot bbox and segm AP against minutes of training from a ``summarize`` result."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    colours = curve_colours(summary['systems'])
    for ax, series, title in zip(axes, ('bbox_AP', 'segm_AP'), ('box AP', 'mask AP')):
        for system, data in summary['systems'].items():
            marks = sorted(data['marks'], key=int)
            x = [0] + [int(m) / 60 for m in marks]
            rows = [data['marks'][m][series] for m in marks]
            mean = [0] + [r['mean'] for r in rows]
            line = ax.plot(x, mean, marker='o', color=colours[system],
                           label=f'{LABELS.get(system, system)}, {len(data["seeds"])} seeds')
            ax.fill_between(x, [0] + [r['min'] for r in rows], [0] + [r['max'] for r in rows],
                            color=line[0].get_color(), alpha=0.2, linewidth=0)
        ax.set(title=f'{summary["split"]} {title} (COCOeval) vs training time', xlabel='training minutes',
               ylabel='AP @[.5:.95]')
        ax.grid(alpha=0.3)
    axes[0].legend(loc='upper left')
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
