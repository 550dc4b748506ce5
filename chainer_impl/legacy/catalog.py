"""Every old API the legacy runner maps, written once: what it was, what the
runner does with it, and the code to write today. The report and the README's
table are both made from this list."""
from typing import NamedTuple


class Mapping(NamedTuple):
    step: str    # the Chainer release that removed, changed or deprecated it; or device, data, outside Chainer
    old: str     # the old API, as a script calls it
    done: str    # what the runner does instead
    modern: str  # the code to write for Chainer 7.8.1


MAPPINGS = {
    # ---------------------------------------------------------------- v1 -> v2
    'test_flag': Mapping(
        'v2', '`bn(x, test=True)` (also `test=`/`train=` of `F.dropout`, `F.zoneout`, `F.n_step_*`, '
              '`L.NStep*`, `L.VGG16Layers`, `L.ResNet*Layers`, `L.GoogLeNet`, ...)',
        "runs that one call under `chainer.using_config('train', not test)`",
        "drop the argument; `with chainer.using_config('train', False): y = bn(x)` for test mode"),
    'volatile': Mapping(
        'v2', "`Variable(x, volatile=flag)`, flag `'on'`, `'off'`, `'auto'`, `True` or `False`",
        'functions applied to a volatile variable run under `chainer.no_backprop_mode()` and their '
        'outputs are volatile too, as in v1',
        '`with chainer.no_backprop_mode(): y = model(Variable(x))`'),
    'volatile_attribute': Mapping(
        'v2', '`variable.volatile` (read or set)',
        "a flag equal to 'on', 'off' or 'auto' (and to True, False, None)",
        '`chainer.config.enable_backprop`'),
    'flag': Mapping(
        'v2', '`chainer.Flag`, `chainer.ON`, `chainer.OFF`, `chainer.AUTO`, `chainer.flag`',
        'gives the v1 flag values', '`chainer.no_backprop_mode()` / `chainer.force_backprop_mode()`'),
    'zero_grads': Mapping(
        'v2', '`optimizer.zero_grads()`', "fills the target's gradients with zeros (`link.zerograds()`), "
                                          'as v1 did', '`model.cleargrads()`'),
    'weight_decay': Mapping(
        'v2', '`optimizer.weight_decay(rate)`', 'adds `rate * param.data` to every gradient, now',
        '`optimizer.add_hook(chainer.optimizer_hooks.WeightDecay(rate))` once, after `setup`'),
    'clip_grads': Mapping(
        'v2', '`optimizer.clip_grads(maxnorm)`',
        'scales all gradients by `maxnorm / norm` when their L2 norm exceeds `maxnorm`, now',
        '`optimizer.add_hook(chainer.optimizer_hooks.GradientClipping(maxnorm))` once, after `setup`'),
    'compute_grads_norm': Mapping(
        'v2', '`optimizer.compute_grads_norm()`', 'returns the L2 norm of all gradients as a float',
        '`math.sqrt(sum(float((p.grad ** 2).sum()) for p in model.params()))`'),
    'accumulate_grads': Mapping(
        'v2', '`optimizer.accumulate_grads(grads)`', "adds each array to its parameter's gradient",
        '`model.addgrads(other_model)`'),
    'function_set': Mapping(
        'v2', '`chainer.FunctionSet(l1=..., l2=...)`', 'a `Chain` holding those links, with '
        '`collect_parameters()`, `parameters` and `gradients`', '`chainer.Chain` with `init_scope()`'),
    'function_alias': Mapping(
        'v2', '`F.Linear`, `F.Convolution2D`, `F.EmbedID`, ... (parameterised functions)',
        'the link of that name in `chainer.links`, with the v1 keyword arguments below',
        '`L.Linear`, `L.Convolution2D`, `L.EmbedID`, ...'),
    'wscale': Mapping(
        'v2', '`L.Linear(..., wscale=w)` (and the convolution links)',
        'initial weights with standard deviation `sqrt(w / fan_in)`, as Chainer v1.9-v1.24 drew them',
        '`initialW=chainer.initializers.LeCunNormal(math.sqrt(w))`'),
    'bias': Mapping(
        'v2', '`L.Linear(..., bias=b)` (and the convolution links)', 'initial bias `b`',
        '`initial_bias=b`'),
    'v1_positional': Mapping(
        'v2', '`L.Linear(784, 100, 0.5)`, `L.Convolution2D(1, 64, 4, 2, 1, 0.02)`, ... (v1 arguments by position '
              'after `out_size` / `pad`: `wscale, bias, nobias, ...`)',
        "reads them by v1's signature when the script is v1 code, or when the value cannot be v7's `nobias` "
        '(a number other than 0 and 1, an array, an initializer)',
        '`L.Linear(784, 100, initialW=chainer.initializers.LeCunNormal(math.sqrt(0.5)))`'),
    'v1_lstm_forget_bias': Mapping(
        'v2', '`L.LSTM(in, out)` in v1 code (forget-gate bias initialised to 0; v2 made it 1)',
        'passes `forget_bias_init=0`', '`L.LSTM(in, out, forget_bias_init=0)`'),
    'v1_gru': Mapping(
        'v2', '`L.GRU(n_units, n_inputs=None)` in v1 code, called `gru(h, x)` (stateless)',
        '`L.StatelessGRU(n_inputs or n_units, n_units)`', '`L.StatelessGRU(in_size, out_size)`'),
    'v1_split_axis': Mapping(
        'v2', '`F.split_axis(x, 1, axis)` in v1 code (`force_tuple` defaulted to False)',
        'returns the one piece as a Variable, not a 1-tuple', '`F.split_axis(x, 1, axis, force_tuple=False)`'),
    'v1_len': Mapping(
        'v2', '`len(variable)` in v1 code (the number of elements)', "`variable.size` (Chainer's own calls "
        'still get the first axis)', '`variable.size`, or `len(variable)` for the first axis'),
    'use_cudnn': Mapping(
        'v2', '`use_cudnn=` of functions and links',
        "runs that call under `chainer.using_config('use_cudnn', 'auto' or 'never')`; dropped where "
        'given to a link constructor', "`with chainer.using_config('use_cudnn', 'never'): ...`"),
    'deterministic': Mapping(
        'v2', '`deterministic=` of convolution functions and links',
        "runs that call under `chainer.using_config('cudnn_deterministic', value)`; dropped where given "
        'to a link constructor', "`with chainer.using_config('cudnn_deterministic', True): ...`"),
    'chain_kwargs': Mapping(
        'v2', '`super().__init__(l1=L.Linear(...), ...)` (links passed to `Chain`)',
        'unchanged: Chainer 7.8.1 still registers them', "`with self.init_scope(): self.l1 = L.Linear(...)`"),
    'add_uninitialized_param': Mapping(
        'v2', "`link.add_uninitialized_param('W')`", "`link.add_param('W')` (shape decided later)",
        "`with self.init_scope(): self.W = chainer.Parameter(initializer)`"),
    'init_weight': Mapping(
        'v2', '`chainer.initializers.init_weight(array, initializer, scale)`',
        'fills the array and multiplies it by `scale`, as v1 did', '`initializer(array); array *= scale`'),
    'snapshot_trigger': Mapping(
        'v2', '`extensions.snapshot(trigger=t)` / `snapshot_object(..., trigger=t)`',
        'the extension keeps `t` as its default trigger', '`trainer.extend(extensions.snapshot(), trigger=t)`'),
    'cuda_array_helpers': Mapping(
        'v2', '`cuda.zeros`, `cuda.ones`, `cuda.empty`, `cuda.full` (and `*_like`), `cuda.init()`',
        'the CuPy function of that name (NumPy under `--device cpu`); `init` checks CUDA',
        '`cupy.zeros(...)`, ...'),
    'caffe': Mapping(
        'v2', '`chainer.functions.caffe.CaffeFunction`', '`chainer.links.caffe.CaffeFunction`',
        '`from chainer.links.caffe import CaffeFunction`'),
    'get_device': Mapping(
        'v3', '`cuda.get_device(n).use()`', '`cuda.get_device_from_id(n).use()`',
        "`chainer.get_device('@cupy:n').use()`"),
    'deprecated': Mapping(
        'v3-v7', 'anything Chainer 7.8.1 still runs but warns about (for example '
                 '`chainer.optimizer.WeightDecay`, `Link.zerograds`, `Optimizer.use_cleargrads`)',
        "runs it unchanged and lists Chainer's own deprecation message", 'what that message says'),
    # ---------------------------------------------------------------- devices
    'to_gpu_cpu': Mapping(
        'device', '`model.to_gpu()`, `Variable.to_gpu()`, `cuda.to_gpu(x)` under `--device cpu`',
        'leaves the arrays on NumPy (`cuda.to_gpu` returns a NumPy copy)', "`model.to_device(device)` "
        "with `device = chainer.get_device(args.device)`"),
    'gpu_device_cpu': Mapping(
        'device', "`cuda.get_device_from_id(n).use()`, `chainer.get_device('@cupy:n')`, `device=n` of "
                  'updaters and converters under `--device cpu`',
        'the CPU', "`chainer.get_device(args.device)`, with `--device @numpy` on a CPU"),
    'cupy_on_numpy': Mapping(
        'device', '`import cupy` (or `cuda.cupy`) under `--device cpu`',
        'a module that runs CuPy calls on NumPy; raw CUDA kernels stop with a message',
        '`xp = chainer.backend.get_array_module(x)`'),
    'cupy_get_cpu': Mapping(
        'device', '`x.get()` of a CuPy array under `--device cpu`',
        'a copy of the NumPy array (each `x.get()` with no arguments in the script and the modules of its folder '
        'is rewritten in memory; other objects keep their own `get()`)', '`chainer.backends.cuda.to_cpu(x)`'),
    'gpu_remap': Mapping(
        'device', 'a GPU id in the script under `--device @cupy:N`', 'GPU N', 'pass the id on the command line'),
    # ---------------------------------------------------------------- CuPy 14
    'cupy_util_memoize': Mapping(
        'CuPy 14', '`cupy.util.memoize`', '`cupy.memoize`', '`cupy.memoize`'),
    'cupy_compile_with_cache': Mapping(
        'CuPy 14', '`cupy.cuda.compile_with_cache(source, options)`',
        '`cupy.RawModule(code=source, options=options)`', '`cupy.RawModule(code=source, options=options)`'),
    'cupy_core': Mapping(
        'CuPy 14', '`cupy.core`', '`cupy._core`', 'the public `cupy` name (`cupy.ElementwiseKernel`, ...)'),
    'cupy_scatter_add': Mapping(
        'CuPy 14', '`cupy.scatter_add(a, slices, value)`', '`cupyx.scatter_add`',
        '`cupyx.scatter_add(a, slices, value)` or `cupy.add.at(a, slices, value)`'),
    # ---------------------------------------------------------------- data
    'fetch_mldata': Mapping(
        'data', "`sklearn.datasets.fetch_mldata('MNIST original')` (removed from scikit-learn)",
        "the IDX MNIST in the mldata layout: 70,000 rows (training then test), `data` uint8 (70000, 784), "
        '`target` float64', "`chainer.datasets.get_mnist()` or `sklearn.datasets.fetch_openml('mnist_784')`"),
    'dataset_download': Mapping(
        'data', '`chainer.datasets.get_mnist()`, `get_fashion_mnist()`, `get_cifar10()`, ... downloads',
        'reads the files from `--data-dir` (or the project\'s `data/`) instead of the network',
        'unchanged, on a machine that can reach the files'),
    # ---------------------------------------------------------------- outside Chainer
    'python2': Mapping(
        'Python 2', 'Python 2 code (`print x`, `xrange`, `except E, e`, `dict.iteritems()`, `cPickle`, ...) in '
                    'the script or a module of its folder',
        'translated in memory with lib2to3 (the file is left as it is); each line a fixer changed is listed',
        'the translated line (`2to3 -w FILE` once)'),
    'py2_division': Mapping(
        'Python 2', '`a / b` of two integers in a Python 2 file without `from __future__ import division`',
        'floors, as Python 2 did (ints, NumPy integer scalars and arrays); any other `/` divides as today',
        '`a // b`'),
    'pickle_text_mode': Mapping(
        'Python 2', "`pickle.dump(obj, open(path, 'w'))`, `pickle.load(open(path))` (text-mode files)",
        "writes and reads the file's bytes underneath (Python 2 files were bytes)",
        "`open(path, 'wb')` / `open(path, 'rb')`"),
    'pickle_python2': Mapping(
        'Python 2', '`pickle.load(f)` of a pickle Python 2 wrote (CIFAR-10\'s batches, old models) with non-ASCII str',
        "reads it again with `encoding='latin1'`, which NumPy arrays in Python 2 pickles need",
        "`pickle.load(f, encoding='latin1')`"),
    'savefig_kwargs': Mapping(
        'outside Chainer', '`savefig(..., unknown=...)` (matplotlib < 3.3 ignored unknown keywords)',
        'drops the keyword matplotlib rejects and saves', 'the same call without that keyword'),
    'scipy_misc': Mapping(
        'outside Chainer',
        '`scipy.misc.imsave`, `imread`, `imresize`, `toimage`, `bytescale` (removed in SciPy 1.2-1.3)',
        'the same on Pillow, with their scaling: a non-uint8 image is stretched from its min..max to 0..255',
        '`PIL.Image.fromarray(numpy.uint8(...)).save(path)`, `imageio.imread(path)`'),
    'numpy_alias': Mapping(
        'outside Chainer', '`numpy.float`, `numpy.int`, `numpy.object`, `numpy.product`, ... (removed in NumPy 1.24/2.0)',
        'the builtin or NumPy function it stood for', '`float`, `int`, `bool`, `numpy.prod`, ...'),
    'pillow_constant': Mapping(
        'outside Chainer', '`Image.ANTIALIAS`, `Image.LINEAR`, `Image.CUBIC` (removed in Pillow 10)',
        '`Image.LANCZOS`, `Image.BILINEAR`, `Image.BICUBIC`', '`Image.LANCZOS`, `Image.BILINEAR`, `Image.BICUBIC`'),
    'old_pil': Mapping(
        'outside Chainer', '`import Image`, `import ImageDraw`, ... (PIL before Pillow)', "Pillow's `PIL.Image`, ...",
        '`from PIL import Image`'),
    'python_removed': Mapping(
        'outside Chainer', '`time.clock()` (removed in Python 3.8), `collections.Iterable` & co. (3.10)',
        '`time.perf_counter()`, `collections.abc.Iterable` & co.',
        '`time.perf_counter()`, `collections.abc.Iterable`'),
}


def markdown_table():
    """The table of old APIs the README shows, one row per mapping."""
    rows = ['| changed in | old API | what the runner does | write instead |', '| --- | --- | --- | --- |']
    rows += [f'| {m.step} | {m.old} | {m.done} | {m.modern} |' for m in MAPPINGS.values()]
    return '\n'.join(rows) + '\n'


if __name__ == '__main__':  # python -m chainer_impl.legacy.catalog: the README's table
    print(markdown_table(), end='')
