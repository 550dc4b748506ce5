"""The benchmark's printed table and its goals (reported, never asserted)."""

HEADER = (f'{"case":<16} {"size":<20} {"variant":<18} {"ms/it":>9} {"p10-p90":>15} {"img/s":>8} '
          f'{"MiB":>7} {"GFLOP/it":>9} {"GFLOP/s":>8} {"of peak":>7} {"x port":>6}')


def _number(value, spec):
    return '-' if value is None else format(value, spec)


def table(cases):
    lines = [HEADER, '-' * len(HEADER)]
    for case in cases:
        for row in case['variants']:
            spread = f'{row["ms_p10"]:.1f}-{row["ms_p90"]:.1f}'
            lines.append(
                f'{case["case"]:<16} {case["size"]:<20} {row["variant"]:<18} {row["ms_median"]:>9.1f} {spread:>15} '
                f'{row["images_per_s"]:>8.0f} {_number(row["peak_memory_mib"], ">7.1f")} '
                f'{row["flops_per_iteration"] / 1e9:>9.2f} {row["flops_per_s"] / 1e9:>8.1f} '
                f'{row["fraction_of_peak"]:>7.1%} {row["ms_over_torch_port"]:>6.2f}')
    return '\n'.join(lines)


def ratios(case):
    """Chainer / port and port / plain (where there is a plain reference) of one case."""
    by_label = {row['variant']: row['ms_median'] for row in case['variants']}
    result = {'chainer_over_torch_port': by_label['chainer'] / by_label['torch port']}
    if 'plain torch' in by_label:
        result['torch_port_over_plain'] = by_label['torch port'] / by_label['plain torch']
    return result


def _find(cases, name):
    return next((c for c in cases if c['case'] == name), None)


def goals(cases, gpu):
    """The issue's targets, each as a dict with the measured value and a verdict."""
    results = []
    for case in cases:
        ratio = ratios(case).get('torch_port_over_plain')
        if ratio is not None and gpu is None:
            results.append({'goal': f'{case["case"]} on CPU: the port within 10% of plain PyTorch',
                            'measured': f'port / plain = {ratio:.2f}', 'met': ratio <= 1.10})
    dcgan = _find(cases, 'dcgan/blog')
    if gpu is None or dcgan is None or dcgan['batch_size'] != 1000:
        why = 'no GPU in this run' if gpu is None else 'dcgan:blog at batch 1000 not in this run'
        results.append({'goal': 'blog DCGAN, batch 1000, one GPU: PyTorch < 5 ms/iteration',
                        'measured': f'unmeasured ({why})', 'met': None})
        results.append({'goal': 'blog DCGAN, batch 1000, one GPU: Chainer on CuPy within 2x of PyTorch',
                        'measured': f'unmeasured ({why})', 'met': None})
    else:
        by_label = {row['variant']: row['ms_median'] for row in dcgan['variants']}
        results.append({'goal': 'blog DCGAN, batch 1000, one GPU: PyTorch < 5 ms/iteration',
                        'measured': f'{by_label["torch port"]:.2f} ms/iteration (70,000 iterations: '
                                    f'{by_label["torch port"] * 70:.0f} s)', 'met': by_label['torch port'] < 5})
        ratio = by_label['chainer'] / by_label['torch port']
        results.append({'goal': 'blog DCGAN, batch 1000, one GPU: Chainer on CuPy within 2x of PyTorch',
                        'measured': f'Chainer / PyTorch = {ratio:.2f}', 'met': ratio <= 2})
    paper = _find(cases, 'cyclegan/paper')
    if paper is None or gpu is None:
        why = 'no GPU in this run' if gpu is None else 'cyclegan:paper not in this run'
        measured = f'unmeasured ({why})'
    else:
        by_label = {row['variant']: row['ms_median'] for row in paper['variants']}
        measured = f'Chainer {by_label["chainer"]:.1f}, PyTorch {by_label["torch port"]:.1f} ms/iteration'
    results.append({'goal': 'CycleGAN paper preset, 256x256, batch 1, one GPU: ms/iteration of both',
                    'measured': measured, 'met': None})
    return results


def goal_lines(results):
    verdict = {True: 'met', False: 'NOT met', None: 'reported'}
    return [f'  [{verdict[g["met"]]}] {g["goal"]}: {g["measured"]}' for g in results]
