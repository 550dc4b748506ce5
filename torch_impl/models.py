"""Model name -> PyTorch module (each exports Generator, Discriminator,
train_step, make_optimizer and RECIPE, see ``gan_common.recipes``;
cyclegan also build_networks, for its four networks)."""
from torch_impl import acgan, cgan, cyclegan, dcgan, gan

MODULES = {'dcgan': dcgan, 'gan': gan, 'cgan': cgan, 'acgan': acgan, 'cyclegan': cyclegan}
