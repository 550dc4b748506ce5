"""Speed of both frameworks side by side in one run (``scripts/benchmark.py``):
Chainer, the PyTorch port and a plain PyTorch reference, interleaved."""
