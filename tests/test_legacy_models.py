"""Importing what old Chainer scripts saved (scripts/convert.py --model ...):
a generator pickled from a blog-shaped script (its classes in __main__), a
look-alike of a Chainer v1 pickle (classes under chainer.flag, chainer.link,
... that Chainer 7.8.1 no longer has), save_npz files with the blog's names,
and the refusals. Samples of the imported model must equal the pickled one's."""
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tests.helpers import REPO, assert_one_line_error, run_script

TOLERANCE = 1e-5  # float32, outputs of magnitude ~1-100; relative to max(1, |y|)

# A blog-shaped v1-style script, as far as Chainer 7.8.1 runs it: links passed
# to the Chain constructor, classes in __main__, pickle.dump of the model.
BLOG_SCRIPT = '''
import pickle, sys
import chainer_impl  # noqa: F401
import chainer, chainer.functions as F, chainer.links as L
import numpy as np

class Generator(chainer.Chain):
    def __init__(self):
        super().__init__(l1=L.Linear(100, 3 * 3 * 512), dc1=L.Deconvolution2D(512, 256, 2, stride=2, pad=1),
                         dc2=L.Deconvolution2D(256, 128, 2, stride=2, pad=1),
                         dc3=L.Deconvolution2D(128, 64, 2, stride=2, pad=1),
                         dc4=L.Deconvolution2D(64, 1, 3, stride=3, pad=1),
                         bn1=L.BatchNormalization(512), bn2=L.BatchNormalization(256),
                         bn3=L.BatchNormalization(128), bn4=L.BatchNormalization(64))

    def __call__(self, z):
        h = F.relu(self.bn1(F.reshape(self.l1(z), (len(z), 512, 3, 3))))
        h = F.relu(self.bn2(self.dc1(h)))
        h = F.relu(self.bn3(self.dc2(h)))
        h = F.relu(self.bn4(self.dc3(h)))
        return self.dc4(h)

out = sys.argv[1]
rng = np.random.RandomState(0)
gen = Generator()
for bn in (gen.bn1, gen.bn2, gen.bn3, gen.bn4):  # trained-looking statistics, so BN matters
    bn.avg_mean[...] = rng.normal(0, 0.5, bn.avg_mean.shape)
    bn.avg_var[...] = rng.uniform(1e-5, 2.0, bn.avg_var.shape)
    bn.gamma.array[...] = rng.uniform(0.5, 1.5, bn.gamma.shape)
    bn.beta.array[...] = rng.normal(0, 0.1, bn.beta.shape)
    bn.N = 7
z = rng.uniform(-1, 1, (8, 100)).astype(np.float32)
with chainer.using_config('train', False), chainer.no_backprop_mode():
    y = gen(z).array
with open(out + '/gen.pkl', 'wb') as f:
    pickle.dump(gen, f)
chainer.serializers.save_npz(out + '/gen_blog.npz', gen)
np.savez(out + '/expected.npz', z=z, y=y)
'''

# Look-alikes of Chainer v1.20's classes, under its module names, pickled as
# v1 pickles them: Variable and Flag by __reduce__, links by their __dict__.
V1_PICKLER = '''
import pickle, sys, types
import numpy as np

def module(name):  # the package and its parents, so pickle finds them without the real chainer
    parts = name.split('.')
    for i in range(1, len(parts) + 1):
        sys.modules.setdefault('.'.join(parts[:i]), types.ModuleType('.'.join(parts[:i])))
    return sys.modules[name]

class Flag:
    def __init__(self, value): self.value = value
    def __reduce__(self): return Flag, (self.value,)

class Variable:
    def __init__(self, data, volatile, name=None, grad=None):
        self.data, self._volatile, self.name, self._grad = data, volatile, name, grad
    def __reduce__(self): return Variable, (self.data, self._volatile, None, self._grad)

class Link:
    def __init__(self):
        self._params, self._persistent, self._uninitialized_params = [], [], {}
        self._cpu, self._device_id, self.name = True, None, None

class Chain(Link):
    def __init__(self):
        super().__init__()
        self._children = []

class Linear(Link): pass
class Deconvolution2D(Link): pass
class BatchNormalization(Link): pass
class Generator(Chain): pass

for cls, name in [(Flag, 'chainer.flag'), (Variable, 'chainer.variable'), (Link, 'chainer.link'),
                  (Chain, 'chainer.link'), (Linear, 'chainer.links.connection.linear'),
                  (Deconvolution2D, 'chainer.links.connection.deconvolution_2d'),
                  (BatchNormalization, 'chainer.links.normalization.batch_normalization'),
                  (Generator, '__main__')]:
    cls.__module__ = name
    setattr(module(name), cls.__name__, cls)

arrays_path, out, protocol = sys.argv[1], sys.argv[2], int(sys.argv[3])
arrays = dict(np.load(arrays_path))
gen, off = Generator(), Flag(False)
for child in sorted({key.split('/')[0] for key in arrays}):
    link = (BatchNormalization if child.startswith('bn') else Linear if child == 'l1' else Deconvolution2D)()
    for key in sorted(k for k in arrays if k.startswith(child + '/')):
        leaf = key.split('/')[1]
        if leaf in ('avg_mean', 'avg_var', 'N'):
            link._persistent.append(leaf)
            setattr(link, leaf, int(arrays[key]) if leaf == 'N' else arrays[key])
        else:
            link._params.append(leaf)
            setattr(link, leaf, Variable(arrays[key], off))
    if child.startswith('bn'):
        link.eps, link.decay, link.use_cudnn = 2e-5, 0.9, True
    link.name = child
    gen._children.append(child)
    setattr(gen, child, link)
with open(out, 'wb') as f:
    pickle.dump(gen, f, protocol=protocol)
'''


def run_python(code, *args):
    env = {'PYTHONPATH': str(REPO), 'PYTHONWARNINGS': 'ignore', 'OMP_NUM_THREADS': '1', 'PATH': '/usr/bin:/bin'}
    result = subprocess.run([sys.executable, '-c', code, *map(str, args)], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope='module')
def blog(tmp_path_factory):
    """gen.pkl (pickled from __main__), gen_blog.npz (save_npz), expected.npz (z, test-mode y)."""
    out = tmp_path_factory.mktemp('blog')
    run_python(BLOG_SCRIPT, out)
    return out


@pytest.fixture(scope='module')
def expected(blog):
    with np.load(blog / 'expected.npz') as data:
        return data['z'], data['y']


def samples(path, z):
    from bridge.generation import TrainedGenerator
    return TrainedGenerator(str(path)).raw(z)


def assert_same_samples(path, z, y):
    diff = float(np.max(np.abs(samples(path, z).astype(np.float64) - y) / np.maximum(1.0, np.abs(y))))
    print(f'{path.name}: max relative difference to the pickled model {diff:.2e} (|y| up to {np.abs(y).max():.1f})')
    assert diff < TOLERANCE


def convert(*args):
    from scripts.convert import main
    main([str(arg) for arg in args])


def test_the_runners_command_converts_a_pickled_main_generator_to_pt(blog, expected, tmp_path):
    result = run_script('convert.py', blog / 'gen.pkl', tmp_path / 'gen.pt', '--model', 'dcgan', '--trust-pickle')
    assert 'generator' in result.stdout
    assert_same_samples(tmp_path / 'gen.pt', *expected)
    run_script('sample.py', tmp_path / 'gen.pt', '--n', '4', '--out', tmp_path / 'digits.png')
    assert (tmp_path / 'digits.png').stat().st_size > 0


@pytest.mark.parametrize('source', ['gen.pkl', 'gen_blog.npz'])
def test_a_blog_generator_imports_to_chainer_npz(blog, expected, tmp_path, source):
    convert(blog / source, tmp_path / 'gen.npz', '--model', 'dcgan', '--trust-pickle')
    assert_same_samples(tmp_path / 'gen.npz', *expected)


@pytest.mark.parametrize('protocol', [0, 2])
def test_a_chainer_v1_pickle_is_read_without_its_modules(blog, expected, tmp_path, protocol):
    run_python(V1_PICKLER, blog / 'gen_blog.npz', tmp_path / 'v1.pkl', protocol)
    assert b'chainer.flag' in (tmp_path / 'v1.pkl').read_bytes()
    convert(tmp_path / 'v1.pkl', tmp_path / 'gen.pt', '--model', 'dcgan', '--trust-pickle')
    assert_same_samples(tmp_path / 'gen.pt', *expected)


def test_the_data_only_reader_runs_no_code_of_the_pickle(tmp_path):
    from bridge.legacy_models import Inert, unpickle_data_only
    marker = tmp_path / 'ran'
    payload = pickle.dumps(type('Exploit', (), {'__reduce__': lambda self: (
        __import__('os').system, (f'touch {marker}',))})())
    (tmp_path / 'evil.pkl').write_bytes(payload)
    loaded = unpickle_data_only(str(tmp_path / 'evil.pkl'))
    assert isinstance(loaded, Inert) and loaded.pickled_class in ('posix.system', 'os.system')
    assert not marker.exists()


def test_v1_20_batchnorm_folds_eps_into_the_variance(blog, expected, tmp_path):
    import chainer
    from chainer_impl.dcgan import Generator
    from chainer_impl.checkpoint import load_state
    from gan_common.keymap import SOURCE_LINK_NAMES
    from bridge.legacy_models import rename
    convert(blog / 'gen_blog.npz', tmp_path / 'v120.pt', '--model', 'dcgan', '--v1-20-batchnorm')
    z, y = expected
    reference = Generator()  # v1.20's test-mode BN: (x - mean) / sqrt(var), no eps
    with np.load(blog / 'gen_blog.npz') as data:
        load_state(reference, rename(dict(data), SOURCE_LINK_NAMES['dcgan']['gen']))
    for link in reference.links():
        if isinstance(link, chainer.links.BatchNormalization):
            link.eps = 0.0
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        y_v120 = reference(z).array
    assert_same_samples(tmp_path / 'v120.pt', z, y_v120)
    shift = float(np.max(np.abs(y_v120 - y)))
    print(f'v1.20 vs v1.21+ test-mode output: max |difference| {shift:.2e}')
    assert shift > 10 * TOLERANCE  # the option does change the outputs


def test_a_blog_discriminator_imports_by_its_own_names(tmp_path):
    from chainer_impl.checkpoint import state_of
    from chainer_impl.dcgan import Discriminator
    from gan_common.keymap import SOURCE_LINK_NAMES
    ours = state_of(Discriminator())
    theirs = {source: project for source, project in SOURCE_LINK_NAMES['dcgan']['dis'].items()}
    blog_names = {f'{source}/{key.split("/", 1)[1]}': value for key, value in ours.items()
                  for source, project in theirs.items() if key.split('/')[0] == project}
    np.savez(tmp_path / 'dis_blog.npz', **blog_names)
    convert(tmp_path / 'dis_blog.npz', tmp_path / 'dis.npz', '--model', 'dcgan')
    with np.load(tmp_path / 'dis.npz') as data:
        imported = {key.split('/', 2)[2]: data[key] for key in data.files if key.startswith('updater/model:dis/')}
    assert set(imported) == set(ours)
    assert all(np.array_equal(imported[key], ours[key]) for key in ours)


def refusal(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        convert(*args)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert exit_info.value.code == 1 and len(lines) == 1, lines
    return lines[0]


def edited_npz(blog, tmp_path, edit):
    with np.load(blog / 'gen_blog.npz') as data:
        arrays = edit(dict(data))
    np.savez(tmp_path / 'edited.npz', **arrays)
    return tmp_path / 'edited.npz'


@pytest.mark.parametrize('edit, fragment', [
    (lambda a: {k.replace('l1/', 'l9/'): v for k, v in a.items()}, 'l9/W'),
    (lambda a: {k: v for k, v in a.items() if not k.startswith('bn4/')}, 'lacks bn4/'),
    (lambda a: {k.replace('bn1/', 'bn0l/'): v for k, v in a.items()}, 'bn0l/'),  # half ours, half the blog's
])
def test_a_generator_with_a_wrong_or_missing_name_is_refused(blog, tmp_path, capsys, edit, fragment):
    line = refusal(capsys, edited_npz(blog, tmp_path, edit), tmp_path / 'out.pt', '--model', 'dcgan')
    assert fragment in line and 'merely looks right' in line
    assert not (tmp_path / 'out.pt').exists()


def test_a_wrong_shape_is_refused(blog, tmp_path, capsys):
    path = edited_npz(blog, tmp_path, lambda a: dict(a, **{'dc4/W': a['dc4/W'][:, :, :2, :2]}))
    assert 'dc4/W has shape' in refusal(capsys, path, tmp_path / 'out.pt', '--model', 'dcgan')


def test_a_pickle_needs_trust_pickle_and_an_import_needs_model(blog, tmp_path, capsys):
    assert '--trust-pickle' in refusal(capsys, blog / 'gen.pkl', tmp_path / 'out.pt', '--model', 'dcgan')
    assert '--model' in refusal(capsys, blog / 'gen_blog.npz', tmp_path / 'out.pt')
    convert(blog / 'gen_blog.npz', tmp_path / 'gen.pt', '--model', 'dcgan')
    assert 'imported network' in refusal(capsys, tmp_path / 'gen.pt', tmp_path / 'back.npz')


def test_hdf5_with_the_blogs_names(blog, expected, tmp_path):
    h5py = pytest.importorskip('h5py', reason='h5py is not installed (pip install ".[hdf5]")')
    with np.load(blog / 'gen_blog.npz') as data, h5py.File(tmp_path / 'gen.h5', 'w') as handle:
        for key in data.files:
            handle[key] = data[key]
    convert(tmp_path / 'gen.h5', tmp_path / 'gen.pt', '--model', 'dcgan')
    assert_same_samples(tmp_path / 'gen.pt', *expected)
