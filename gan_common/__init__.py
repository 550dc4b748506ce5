"""Framework-neutral helpers (NumPy, Pillow, matplotlib only): datasets, the
seeded random stream, image grids, run directories, plots and checkpoint key
maps shared by ``chainer_impl`` and ``torch_impl``."""
