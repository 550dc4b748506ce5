"""One seeded NumPy stream for everything random in training: minibatch
order and noise. Both frameworks draw from it in the same order, so they see
identical numbers (framework RNGs are unrelated streams)."""
import json

import numpy as np


class RandomStream:
    """A seeded ``numpy.random.Generator`` with a JSON-serialisable state."""

    def __init__(self, seed=0):
        self.generator = np.random.Generator(np.random.PCG64(seed))

    def permutation(self, n):
        return self.generator.permutation(n)

    def uniform(self, low, high, shape, dtype=np.float32):
        return self.generator.uniform(low, high, shape).astype(dtype)

    def normal(self, shape, dtype=np.float32):
        return self.generator.standard_normal(shape).astype(dtype)

    def integers(self, high, shape):
        return self.generator.integers(0, high, shape).astype(np.int64)

    def dropout_mask(self, shape, ratio):
        """Inverted dropout's mask (float32): 0 with probability ``ratio``, else 1 / (1 - ratio)."""
        keep = self.generator.random(shape, dtype=np.float32) >= ratio
        return keep.astype(np.float32) * np.float32(1.0 / (1.0 - ratio))

    def get_state(self):
        return json.dumps(self.generator.bit_generator.state)

    def set_state(self, state):
        self.generator.bit_generator.state = json.loads(str(state))


class DropoutMasks:
    """``masks(shape, ratio)``: dropout masks drawn from ``stream``, a
    ``train_step`` keyword argument, so that both frameworks drop the same
    units (its state is the stream's, saved with the batches)."""

    def __init__(self, stream):
        self.stream = stream

    def __call__(self, shape, ratio):
        return self.stream.dropout_mask(tuple(shape), ratio)


def batches_per_epoch(n_examples, batch_size, keep_partial=False):
    """Full batches in one pass over the data, plus the partial last one if kept."""
    return -(-n_examples // batch_size) if keep_partial else n_examples // batch_size


class EpochBatches:
    """Minibatch indices: one permutation per epoch; the remainder dropped or,
    with ``keep_partial`` (PyTorch's ``DataLoader`` default), served as a
    last, smaller batch."""

    def __init__(self, n_examples, batch_size, stream, keep_partial=False):
        if batch_size > n_examples:
            from gan_common.errors import UserError
            raise UserError(f'--batch-size {batch_size} is larger than the dataset '
                            f'({n_examples} images); use a smaller batch size')
        self.n_examples = n_examples
        self.batch_size = batch_size
        self.stream = stream
        self.keep_partial = keep_partial
        self.epoch = 0
        self.position = 0
        self.order = None

    @property
    def batches_per_epoch(self):
        return batches_per_epoch(self.n_examples, self.batch_size, self.keep_partial)

    @property
    def examples_per_epoch(self):
        return self.n_examples if self.keep_partial else self.batches_per_epoch * self.batch_size

    def next(self):
        if self.order is None or self.position >= self.examples_per_epoch:
            if self.order is not None:
                self.epoch += 1
            self.order = self.stream.permutation(self.n_examples)
            self.position = 0
        indices = self.order[self.position:min(self.position + self.batch_size, self.examples_per_epoch)]
        self.position += len(indices)
        return indices

    @property
    def epoch_detail(self):
        return self.epoch + self.position / self.examples_per_epoch

    @property
    def is_new_epoch(self):
        return self.position == self.batch_size and self.epoch > 0

    def get_state(self):
        return {'epoch': self.epoch, 'position': self.position,
                'order': None if self.order is None else self.order.tolist(),
                'stream': self.stream.get_state()}

    def set_state(self, state):
        self.epoch = int(state['epoch'])
        self.position = int(state['position'])
        order = state['order']
        self.order = None if order is None else np.asarray(order, dtype=np.int64)
        self.stream.set_state(state['stream'])


class ReplacementBatches:
    """Minibatch indices drawn with replacement, independently each iteration
    (``np.random.randint(0, N, batch_size)``, as the CGAN book does); an
    "epoch" is ``N // batch_size`` batches, for logging only."""

    def __init__(self, n_examples, batch_size, stream):
        if batch_size > n_examples:
            from gan_common.errors import UserError
            raise UserError(f'--batch-size {batch_size} is larger than the dataset '
                            f'({n_examples} images); use a smaller batch size')
        self.n_examples = n_examples
        self.batch_size = batch_size
        self.stream = stream
        self.drawn = 0

    @property
    def batches_per_epoch(self):
        return self.n_examples // self.batch_size

    def next(self):
        self.drawn += 1
        return self.stream.integers(self.n_examples, self.batch_size)

    @property
    def epoch(self):
        return self.drawn // self.batches_per_epoch

    @property
    def position(self):
        return (self.drawn % self.batches_per_epoch) * self.batch_size

    @property
    def epoch_detail(self):
        return self.drawn / self.batches_per_epoch

    @property
    def is_new_epoch(self):
        return self.drawn > 0 and self.drawn % self.batches_per_epoch == 0

    def get_state(self):
        return {'epoch': self.epoch, 'drawn': self.drawn, 'stream': self.stream.get_state()}

    def set_state(self, state):
        self.drawn = int(state['drawn'])
        self.stream.set_state(state['stream'])
