"""CycleGAN, framework-free: the loss settings of each preset, the image
sizes each network takes, the unpaired batch order, the image pool and the
recipe both frameworks' trainers consult (see ``gan_common.recipes``).

Every random choice (batch order, crop offsets, flips, the pool's choices)
is drawn from the shared ``RandomStream``, so both frameworks see the same
numbers. Order within one iteration: the A and B indices (a new permutation
of a domain whenever it runs out), then for each A image and then each B
image its crop offsets (top, left) and its flip; then, inside
``train_step``, the pool of B-domain fakes and then that of A-domain fakes."""
from dataclasses import dataclass

import numpy as np

from gan_common.datasets import SCALINGS
from gan_common.errors import UserError

NETWORKS = ('gen_ab', 'gen_ba', 'dis_a', 'dis_b')  # train_step takes them (then their optimizers) in this order
LOSS_NAMES = ('loss_gen', 'loss_dis_a', 'loss_dis_b', 'loss_cycle')
# Input sizes: the U-Net halves four times; the blog discriminator five times (k4 s2 p1)
# and is left with 0x0 below 32. The ResNet generator halves twice and doubles back
# exactly only from a multiple of 4; the 70x70 PatchGAN needs 24 for a 1x1 map.
SIZE_RULES = {'blog': (16, 32), 'paper': (4, 24)}   # (multiple of, at least)
GENERATOR_SIZE_RULES = {'blog': (16, 16), 'paper': (4, 4)}


@dataclass(frozen=True)
class CycleLosses:
    gan_loss: str = 'sce'        # 'sce': 2-channel patch map, softmax CE; 'lsgan': 1 channel, MSE to 1 / 0
    cycle: float = 10.0          # lambda of the L1 cycle loss
    identity: float = 0.0        # times lambda: weight of the L1 identity loss
    dis_scale: float = 1.0       # each discriminator's loss is multiplied by this

    @classmethod
    def from_config(cls, config):
        return cls(config['gan_loss'], config['lambda_cycle'], config['lambda_identity'], config['dis_scale'])


BLOG_LOSSES = CycleLosses('sce', 10.0, 0.0, 1.0)
PAPER_LOSSES = CycleLosses('lsgan', 10.0, 0.5, 0.5)


def check_image_size(preset, size, what='--image-size', rules=SIZE_RULES):
    """Refuse a training size the preset's networks cannot take, naming sizes they can."""
    multiple, least = rules[preset]
    if size < least or size % multiple:
        lower = max(least, size // multiple * multiple)
        upper = max(least, -(-size // multiple) * multiple)
        options = f'{lower}' if lower == upper else f'{lower} or {upper}'
        raise UserError(f'{what} {size}: the {preset} networks take a multiple of {multiple}, '
                        f'at least {least}; use {options}')
    return size


# ---------------------------------------------------------------- batches
class UnpairedBatches:
    """Indices of one A batch and one B batch per iteration: each domain goes
    through its own permutations (a new one when it runs out, the remainder
    dropped). An epoch is ``max(n_a, n_b) // batch_size`` iterations, as the
    reference implementation's dataset length is the larger domain."""

    def __init__(self, n_a, n_b, batch_size, stream):
        if batch_size > min(n_a, n_b):
            raise UserError(f'--batch-size {batch_size} is larger than a domain '
                            f'({n_a} A and {n_b} B images); use a smaller batch size')
        self.sizes = (n_a, n_b)
        self.batch_size = batch_size
        self.stream = stream
        self.drawn = 0
        self.orders = [None, None]
        self.positions = [0, 0]

    @property
    def batches_per_epoch(self):
        return max(self.sizes) // self.batch_size

    def next(self):
        self.drawn += 1
        return tuple(self._take(domain) for domain in (0, 1))

    def _take(self, domain):
        n = self.sizes[domain]
        if self.orders[domain] is None or self.positions[domain] + self.batch_size > n:
            self.orders[domain] = self.stream.permutation(n)
            self.positions[domain] = 0
        start = self.positions[domain]
        self.positions[domain] += self.batch_size
        return self.orders[domain][start:start + self.batch_size]

    @property
    def epoch(self):
        """The epoch of the batch drawn last (0-based)."""
        return max(0, self.drawn - 1) // self.batches_per_epoch

    @property
    def epoch_detail(self):
        return self.drawn / self.batches_per_epoch

    @property
    def is_new_epoch(self):
        """True on the first batch of every epoch but the first (as ``EpochBatches``)."""
        return self.drawn > 1 and (self.drawn - 1) % self.batches_per_epoch == 0

    def get_state(self):
        return {'drawn': self.drawn, 'positions': list(self.positions), 'epoch': self.epoch,
                'orders': [None if o is None else o.tolist() for o in self.orders],
                'stream': self.stream.get_state()}

    def set_state(self, state):
        self.drawn = int(state['drawn'])
        self.positions = [int(p) for p in state['positions']]
        self.orders = [None if o is None else np.asarray(o, dtype=np.int64) for o in state['orders']]
        self.stream.set_state(state['stream'])


# ---------------------------------------------------------------- image pool
class ImagePool:
    """The reference implementation's history of generated images (Shrivastava
    et al. 2017): until ``size`` images are stored, each query image is stored
    and returned; after that, each one is, with probability 1/2, swapped for a
    stored image chosen uniformly (the stored one is returned, the new one
    kept), and otherwise returned as it is. ``size`` 0 returns the query.

    Holds NumPy arrays, so both frameworks share it; draws come from ``stream``:
    u ~ U(0, 1) per image once full (swap when u > 0.5), then the slot."""

    def __init__(self, size, stream):
        self.size = size
        self.stream = stream
        self.own_stream = False
        self.images = []

    def draw_from(self, stream):
        """Draw from ``stream``, a stream of the pool's own, whose state is then part of the pool's."""
        self.stream, self.own_stream = stream, True

    def query(self, images):
        if self.size == 0:
            return images
        out = []
        for image in images:
            if len(self.images) < self.size:
                self.images.append(image.copy())
                out.append(image)
            elif self.stream.uniform(0.0, 1.0, (), np.float64) > 0.5:
                slot = int(self.stream.integers(self.size, ()))
                out.append(self.images[slot])
                self.images[slot] = image.copy()
            else:
                out.append(image)
        return np.stack(out)

    def get_state(self):
        """The stored images; with a stream of its own, that stream's state too
        (as the bytes of its JSON, so that both frameworks' files hold it as an array)."""
        state = {'images': np.stack(self.images) if self.images else np.zeros((0,), np.float32)}
        if self.own_stream:
            state['stream'] = np.frombuffer(self.stream.get_state().encode(), np.uint8).copy()
        return state

    def set_state(self, state):
        images = np.asarray(state['images'])
        self.images = [image.copy() for image in images] if images.ndim == 4 else []
        if self.own_stream and 'stream' in state:
            self.stream.set_state(np.asarray(state['stream'], np.uint8).tobytes().decode())


# ---------------------------------------------------------------- recipe
def prepare(pixels, crop, flip, scaling, dtype, stream=None):
    """uint8 (N, C, L, L) -> floats (N, C, crop, crop) scaled ``(x / divide) - subtract``.
    With ``stream``: a random crop (top, left) and, if ``flip``, a horizontal
    flip with probability 1/2, per image; without: the centre crop."""
    divide, subtract = scaling
    size = pixels.shape[-1]
    out = []
    for image in pixels:
        if stream is None:
            top = left = (size - crop) // 2
            mirror = False
        else:
            top, left = (int(v) for v in stream.integers(size - crop + 1, 2))
            mirror = flip and stream.uniform(0.0, 1.0, (), np.float64) < 0.5
        patch = image[:, top:top + crop, left:left + crop]
        out.append(patch[:, :, ::-1] if mirror else patch)
    dtype = np.dtype(dtype).type
    return np.stack(out).astype(dtype) / dtype(divide) - dtype(subtract)


@dataclass(frozen=True)
class UnpairedRecipe:
    """How a CycleGAN iteration's inputs are drawn (see the module docstring),
    with the trainer-facing methods of ``gan_common.recipes.Recipe``."""
    networks: tuple = NETWORKS
    loss_names: tuple = LOSS_NAMES
    grid_size: int = 6              # images per row of the translation grid
    conditional: bool = False

    def batches(self, data, config, stream):
        return UnpairedBatches(len(data.a), len(data.b), config['batch_size'], stream)

    def drawer(self, data, labels, stream, config):
        """draw(indices) -> (x_a, x_b)."""
        scaling = SCALINGS[config['scaling']]

        def draw(indices):
            index_a, index_b = indices
            return tuple(prepare(pixels[index], config['image_size'], config['flip'], scaling, config['dtype'], stream)
                         for pixels, index in ((data.a, index_a), (data.b, index_b)))

        return draw

    def fixed(self, data, config):
        """The first images of each test domain (training ones if there is no
        test set), centre-cropped, for the grid written to samples/."""
        scaling = SCALINGS[config['scaling']]
        n = self.grid_size
        return tuple(prepare(pixels[:n], config['image_size'], False, scaling, config['dtype'])
                     for pixels in (data.fixed_a, data.fixed_b))

    def grid(self, run, networks, fixed):
        """(images, columns): rows A, G(A), F(G(A)), then B, F(B), G(F(B));
        ``run(network, x)`` is the framework's test-mode forward pass."""
        x_a, x_b = fixed
        fake_b = run(networks['gen_ab'], x_a)
        fake_a = run(networks['gen_ba'], x_b)
        rows = [x_a, fake_b, run(networks['gen_ba'], fake_b), x_b, fake_a, run(networks['gen_ab'], fake_a)]
        return np.concatenate(rows), len(x_a)

    def step_kwargs(self, config, stream):
        """``train_step``'s keyword arguments: the loss settings and, where the
        preset has one, the two image pools (their state goes into checkpoints)."""
        kwargs = {'losses': CycleLosses.from_config(config)}
        if config.get('pool_size'):
            kwargs.update(pool_a=ImagePool(config['pool_size'], stream), pool_b=ImagePool(config['pool_size'], stream))
        return kwargs


def stateful(step_kwargs):
    """The ``train_step`` keyword arguments that carry state (the pools)."""
    return {name: value for name, value in step_kwargs.items() if hasattr(value, 'get_state')}
