"""Run old Chainer (v1-v6) scripts unchanged on Chainer 7.8.1: ``python -m
chainer_impl.legacy --help``.

runner (the command), v1_to_v2 and later_steps (the old APIs, by the release
that removed them), device (--device), cupy_names and numpy_cupy (old CuPy
names; CuPy on NumPy), data (--data-stand-ins), surroundings (what is not
Chainer: matplotlib, NumPy aliases), catalog and report (what was mapped)."""
