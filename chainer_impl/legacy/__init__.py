"""Run old Chainer (v1-v6) scripts unchanged on Chainer 7.8.1: ``python -m
chainer_impl.legacy --help``.

runner (the command), python2 (Python 2 files translated in memory), era
(v1 or v2+ code), v1_to_v2, v1_defaults and later_steps (the old APIs, by the
release that removed or changed them), device (--device), cupy_names and
numpy_cupy (old CuPy names; CuPy on NumPy), data (--data-stand-ins),
surroundings and scipy_misc (what is not Chainer: matplotlib, NumPy aliases,
Pillow, scipy.misc), catalog and report (what was mapped)."""
