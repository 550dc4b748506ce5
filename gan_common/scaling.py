"""What N data-parallel GPUs give, as a model: compute per iteration split
over the ranks, plus a ring all-reduce of every stepped network's gradients.

A ring all-reduce of B bytes over N ranks sends 2 (N - 1) / N * B bytes
through each rank's slowest link; the model takes no overlap of that traffic
with the backward pass (DDP and ChainerMN's pure_nccl can overlap part of it),
so its step times are upper bounds. The FLOP count per iteration comes from
the layer shapes (``torch_impl.scaling``)."""
from dataclasses import dataclass

RANKS = (1, 2, 4, 8, 16, 32, 64)


def ring_allreduce_seconds(nbytes, ranks, bandwidth):
    """Time to all-reduce ``nbytes`` over ``ranks`` at ``bandwidth`` bytes/s per link."""
    return 0.0 if ranks == 1 else 2.0 * (ranks - 1) / ranks * nbytes / bandwidth


@dataclass(frozen=True)
class Workload:
    name: str
    flops_per_example: float   # one training iteration's FLOPs per example of the global batch
    gradient_bytes: int        # the gradients all-reduced each iteration
    global_batch: int = None   # fixed global batch (strong scaling); None: one example per rank


def iteration_seconds(workload, ranks, flops_per_second, bandwidth):
    """(compute, all-reduce) seconds of one iteration on ``ranks`` GPUs."""
    per_rank = workload.global_batch / ranks if workload.global_batch else 1
    compute = workload.flops_per_example * per_rank / flops_per_second
    return compute, ring_allreduce_seconds(workload.gradient_bytes, ranks, bandwidth)


def scaling_rows(workload, flops_per_second, bandwidths, ranks=RANKS):
    """One row per rank count: compute ms, then for each bandwidth the all-reduce
    ms, the examples per second and the efficiency against ``ranks`` x one GPU."""
    rows = []
    for n in ranks:
        row = {'ranks': n, 'compute_ms': None, 'by_bandwidth': []}
        for bandwidth in bandwidths:
            compute, reduce = iteration_seconds(workload, n, flops_per_second, bandwidth)
            batch = workload.global_batch or n
            single_compute, _ = iteration_seconds(workload, 1, flops_per_second, bandwidth)
            single_rate = (workload.global_batch or 1) / single_compute
            rate = batch / (compute + reduce)
            row['compute_ms'] = compute * 1e3
            row['by_bandwidth'].append({'allreduce_ms': reduce * 1e3, 'examples_per_s': rate,
                                        'efficiency': rate / (n * single_rate)})
        rows.append(row)
    return rows


def markdown_table(workload, flops_per_second, bandwidths, ranks=RANKS):
    """Per rank count: the batch per GPU, compute ms, and for each bandwidth one
    cell "all-reduce ms / examples per second / efficiency"."""
    head = ['GPUs', 'batch per GPU', 'compute ms'] + [f'at {b / 1e9:g} GB/s' for b in bandwidths]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + ' --- |' * len(head)]
    for row in scaling_rows(workload, flops_per_second, bandwidths, ranks):
        per_gpu = workload.global_batch / row['ranks'] if workload.global_batch else 1
        cells = [str(row['ranks']), f'{per_gpu:g}', f'{row["compute_ms"]:.2f}']
        cells += [f'{e["allreduce_ms"]:.2f} ms / {e["examples_per_s"]:,.0f} / {e["efficiency"]:.0%}'
                  for e in row['by_bandwidth']]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)
