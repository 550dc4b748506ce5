"""The measuring instrument of the evaluation: a small CNN per dataset (MNIST,
Fashion-MNIST), trained here on CPU in minutes, whose class probabilities
and 128-d penultimate features the metrics in ``gan_common.metrics`` read.

Scores made with it ("classifier accuracy", "classifier score", "Fréchet
distance in classifier features") are comparable only across runs measured
with the same weights, which is why those weights are committed under
``data/classifiers/`` with their SHA-256 in ``SHA256SUMS``; a missing file is
rebuilt by ``train`` (deterministic for a given machine and PyTorch build)."""
import hashlib
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm import tqdm

from gan_common.datasets import load_images
from gan_common.errors import UserError
from gan_common.files import atomic_path
from gan_common.idx import SHIPPED_DATA_DIR
from gan_common.streams import EpochBatches, RandomStream

WEIGHTS_DIR = str(SHIPPED_DATA_DIR / 'classifiers')
CHECKSUMS = os.path.join(WEIGHTS_DIR, 'SHA256SUMS')
DATASETS = {  # name -> (epochs, learning-rate decay per epoch, the test accuracy it must reach)
    'mnist': (5, 0.7, 0.990),
    'fashion-mnist': (10, 0.8, 0.910),
}
FEATURES = 128


class Classifier(nn.Module):
    """Conv(1, 32, 3) -> max-pool -> Conv(32, 64, 3) -> max-pool -> dropout ->
    Linear(3136, 128) (the features) -> dropout -> Linear(128, 10); inputs in [0, 1]."""

    def __init__(self, n_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc = nn.Linear(64 * 7 * 7, FEATURES)
        self.out = nn.Linear(FEATURES, n_classes)

    def features(self, x):
        h = F.max_pool2d(F.relu(self.conv1(x - 0.5)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        return F.relu(self.fc(F.dropout(h.flatten(1), 0.25, self.training)))

    def forward(self, x):
        return self.out(F.dropout(self.features(x), 0.25, self.training))


def weights_path(dataset):
    return os.path.join(WEIGHTS_DIR, f'{dataset}.pt')


def check_dataset(dataset):
    if dataset not in DATASETS:
        raise UserError(f'no classifier for dataset {dataset!r}; choose from {", ".join(DATASETS)}')


# ---------------------------------------------------------------- training
def train(dataset, data_dir=None, epochs=None, seed=0, batch_size=64, progress=True):
    """A freshly trained classifier (Adam 1e-3 decayed each epoch, batches
    from the shared numpy stream) and its test accuracy."""
    check_dataset(dataset)
    default_epochs, decay, _ = DATASETS[dataset]
    epochs = epochs or default_epochs
    images, labels = load_images(dataset, data_dir, ['train'], scaling='unit')
    torch.manual_seed(seed)
    model = Classifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=decay)
    batches = EpochBatches(len(images), batch_size, RandomStream(seed))
    steps = epochs * (len(images) // batch_size)
    model.train()
    for step in tqdm(range(steps), desc=f'classifier ({dataset})', disable=not progress, unit='it'):
        index = batches.next()
        loss = F.cross_entropy(model(torch.from_numpy(images[index])), torch.from_numpy(labels[index]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if batches.is_new_epoch:
            schedule.step()
    model.eval()
    return model, test_accuracy(model, dataset, data_dir)


def test_accuracy(model, dataset, data_dir=None):
    images, labels = load_images(dataset, data_dir, ['test'], scaling='unit')
    return float((predict(model, images).argmax(1) == labels).mean())


def save(model, dataset, path=None):
    """Write the weights atomically and record their SHA-256 in SHA256SUMS."""
    path = path or weights_path(dataset)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save(model.state_dict(), tmp)
    if os.path.dirname(os.path.abspath(path)) == WEIGHTS_DIR:
        sums = read_checksums()
        sums[os.path.basename(path)] = sha256_of(path)
        with atomic_path(CHECKSUMS) as tmp, open(tmp, 'w') as f:
            f.writelines(f'{digest}  {name}\n' for name, digest in sorted(sums.items()))
    return path


# ---------------------------------------------------------------- loading
def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def read_checksums():
    if not os.path.exists(CHECKSUMS):
        return {}
    with open(CHECKSUMS) as f:
        return {name: digest for digest, name in (line.split() for line in f if line.strip())}


def load(dataset, data_dir=None, progress=True):
    """The committed classifier of ``dataset``, checked against SHA256SUMS;
    rebuilt (minutes, with a progress bar) when its file is missing."""
    check_dataset(dataset)
    path = weights_path(dataset)
    if not os.path.exists(path):
        print(f'{path} is missing; training it (ganport train-classifier --dataset {dataset})')
        model, accuracy = train(dataset, data_dir, progress=progress)
        save(model, dataset)
        print(f'classifier test accuracy {accuracy:.4f}; its SHA-256 is now in {CHECKSUMS}')
        return model
    expected = read_checksums().get(os.path.basename(path))
    if expected is not None and sha256_of(path) != expected:
        raise UserError(f'{path} does not match its SHA-256 in {CHECKSUMS}; restore it with '
                        f'`git checkout -- {os.path.relpath(path)}` or rebuild it with '
                        f'ganport train-classifier --dataset {dataset}')
    model = Classifier()
    model.load_state_dict(torch.load(path, map_location='cpu', weights_only=True))
    return model.eval()


# ---------------------------------------------------------------- measuring
def run(model, images, batch_size=1000):
    """(class probabilities (N, 10), penultimate features (N, 128)) of images
    (N, 1, 28, 28) in [0, 1], as float64 NumPy arrays."""
    probs, feats = [], []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            x = torch.as_tensor(np.asarray(images[start:start + batch_size], np.float32))
            h = model.features(x)
            probs.append(F.softmax(model.out(h), 1).double().numpy())
            feats.append(h.double().numpy())
    return np.concatenate(probs), np.concatenate(feats)


def predict(model, images):
    return run(model, images)[0]
