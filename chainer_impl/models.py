"""Model name -> Chainer module (each exports Generator, Discriminator,
train_step, make_optimizer and RECIPE, see ``gan_common.recipes``)."""
from chainer_impl import acgan, cgan, dcgan, gan

MODULES = {'dcgan': dcgan, 'gan': gan, 'cgan': cgan, 'acgan': acgan}
