"""Epoch batches with the partial last batch kept (PyTorch's DataLoader
default, the vanilla GAN post's data order) or dropped."""
import numpy as np

from gan_common.streams import EpochBatches, RandomStream, batches_per_epoch


def test_the_posts_epoch_is_937_full_batches_and_one_of_32():
    assert batches_per_epoch(60_000, 64, keep_partial=True) == 938
    assert batches_per_epoch(60_000, 64) == 937
    batches = EpochBatches(60_000, 64, RandomStream(0), keep_partial=True)
    epoch = [batches.next() for _ in range(938)]
    assert [len(b) for b in epoch[:-1]] == [64] * 937 and len(epoch[-1]) == 32
    assert sorted(np.concatenate(epoch).tolist()) == list(range(60_000))  # every image once
    assert batches.epoch == 0 and batches.epoch_detail == 1.0
    assert len(batches.next()) == 64 and batches.epoch == 1 and batches.is_new_epoch


def test_dropping_the_remainder_serves_full_batches_only():
    batches = EpochBatches(10, 4, RandomStream(0))
    sizes = [len(batches.next()) for _ in range(4)]
    assert sizes == [4, 4, 4, 4] and batches.epoch == 1


def test_a_kept_partial_batch_resumes_exactly():
    a = EpochBatches(10, 4, RandomStream(3), keep_partial=True)
    for _ in range(4):
        a.next()
    b = EpochBatches(10, 4, RandomStream(99), keep_partial=True)
    b.set_state(a.get_state())
    assert all(np.array_equal(a.next(), b.next()) for _ in range(5))
