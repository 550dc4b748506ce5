"""One benchmark run: for each case, every variant's memory, FLOPs, the
matrix-multiply peak of each framework, then the interleaved timing."""
import platform

import torch
from tqdm import tqdm

from bridge.benchmark import measure
from bridge.benchmark.cases import build_variants
from gan_common.checkpoints import first_line

# the variants every case has; only a tuned one may be left out when it fails
BASE_VARIANTS = ('chainer', 'torch port', 'plain torch')


def built_and_measured(cases, tuned):
    """Every case's variants, and each one's peak memory, measured before any
    variant of any case has stepped: a forked measurement is only safe while
    the process has started no thread pool (OpenMP's, OpenBLAS's, inductor's)."""
    built = []
    for case in cases:
        variants = build_variants(case, tuned)
        built.append((variants, {v.label: measure.peak_memory_mib(v) for v in variants}))
    return built


def benchmark_case(case, gpu, warmup, iterations, block, variants, memory):
    counted, failed = {}, {}
    for variant in list(variants):
        try:
            if variant.framework == 'torch':
                counted[variant.label] = measure.count_iteration_flops(variant)
            else:
                variant.step()  # a first (warm-up) step, so that a failing variant fails here
        except Exception as error:  # noqa: BLE001  (a tuned setting that fails on this case is reported)
            if variant.label in BASE_VARIANTS:
                raise
            failed[variant.label] = f'{type(error).__name__}: {first_line(error)}'
            tqdm.write(f'{case.name}: {variant.label} left out, it failed: {failed[variant.label]}')
            variants.remove(variant)
    port_flops, largest = counted['torch port']
    n = measure.matmul_size(largest, gpu is not None)
    peaks = {framework: measure.matmul_peak(framework, n, gpu, case.config['dtype'])
             for framework in ('chainer', 'torch')}
    total = len(variants) * (warmup + iterations)
    with tqdm(total=total, desc=case.name, leave=False, unit='it') as progress:
        times = measure.interleaved_times(variants, warmup, iterations, block, progress)
    rows = []
    for variant, ms in zip(variants, times):
        # Chainer runs the port's computation (the parity tests prove it), so it shares the port's count
        iteration_flops = counted.get(variant.label, (port_flops,))[0]
        row = {'variant': variant.label, 'framework': variant.framework, 'peak_memory_mib': memory[variant.label],
               'flops_per_iteration': iteration_flops['total']}
        row.update(measure.summarise_times(ms, case.batch_size))
        achieved = iteration_flops['total'] / (row['ms_median'] / 1e3)
        row.update(flops_per_s=achieved, matmul_peak_flops_per_s=peaks[variant.framework],
                   fraction_of_peak=achieved / peaks[variant.framework], ms=ms)
        rows.append(row)
    by_label = {row['variant']: row for row in rows}
    base = by_label['torch port']['ms_median']
    for row in rows:
        row['ms_over_torch_port'] = row['ms_median'] / base
    return {'case': case.name, 'model': case.model, 'preset': case.preset, 'size': case.size_label,
            'batch_size': case.batch_size, 'dtype': case.config['dtype'], 'matmul_n': n,
            'flops_forward': port_flops['forward'], 'flops_backward': port_flops['backward'],
            'variants': rows, 'failed_variants': failed}


def machine(gpu, threads):
    import numpy as np
    import chainer
    info = {'platform': platform.platform(), 'processor': platform.processor() or platform.machine(),
            'python': platform.python_version(), 'numpy': np.__version__, 'chainer': chainer.__version__,
            'torch': torch.__version__, 'torch_threads': torch.get_num_threads(), 'threads': threads,
            'device': 'cpu' if gpu is None else f'cuda:{gpu}'}
    if gpu is not None:
        import cupy
        from cupy._core import _accelerator
        info.update(gpu_name=torch.cuda.get_device_name(gpu), cupy=cupy.__version__,
                    cupy_reduction_accelerators=list(_accelerator.get_reduction_accelerators()),
                    tf32=torch.backends.cuda.matmul.allow_tf32 or torch.backends.cudnn.allow_tf32)
    return info


def run(args, gpu, command):
    """Every case of ``args.models``: table, ratios and goals printed; the results as a dict."""
    from bridge.benchmark import report
    from bridge.benchmark.cases import parse_models, select_cases
    from bridge.benchmark.tuning import parse_tunings, prepare_device
    prepare_device(gpu)
    tuned = parse_tunings(args.tuned)
    cases, skipped = select_cases(parse_models(args.models), gpu, quick=args.quick)
    info = machine(gpu, args.threads)
    print(f'{info["device"]} ({info["processor"]}), PyTorch {info["torch"]} with {info["torch_threads"]} '
          f'thread(s), Chainer {info["chainer"]}, NumPy {info["numpy"]}')
    if skipped:
        print(f'skipped on CPU (name them in --models to run them): {", ".join(skipped)}')
    results = []
    for case, (variants, memory) in zip(cases, built_and_measured(cases, tuned)):
        results.append(benchmark_case(case, gpu, args.warmup, args.iterations, args.block, variants, memory))
        results[-1]['ratios'] = report.ratios(results[-1])
    print(report.table(results))
    for case in results:
        print(f'{case["case"]}: ' + ', '.join(f'{k.replace("_over_", " / ").replace("_", " ")} {v:.2f}'
                                               for k, v in case['ratios'].items()))
    goals = report.goals(results, gpu)
    print('goals (reported, not asserted):')
    print('\n'.join(report.goal_lines(goals)))
    output = {'command': command, 'machine': info, 'quick': args.quick, 'skipped': skipped, 'cases': results,
              'goals': goals, 'settings': {'warmup': args.warmup, 'iterations': args.iterations,
                                           'block': args.block, 'tuned': list(tuned), 'dtype': 'float32'},
              'flops_convention': 'a multiply-add is 2 FLOPs; linear, convolution and transposed-convolution '
                                  'layers only; backward = weight gradient + input gradient where one is needed'}
    if args.profile:
        from bridge.benchmark.profile import profile_cases
        output['profile'] = profile_cases(cases, args.profile_iterations)
    return output
