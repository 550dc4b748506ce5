"""PyTorch port of the Chainer models, with Chainer's semantics where they
differ from PyTorch's defaults (see ``torch_impl.chainer_semantics``)."""
