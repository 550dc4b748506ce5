"""Model name -> Chainer module (each exports Generator, Discriminator, train_step)."""
from chainer_impl import dcgan

MODULES = {'dcgan': dcgan}
