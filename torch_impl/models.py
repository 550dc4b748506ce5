"""Model name -> PyTorch module (each exports Generator, Discriminator, train_step)."""
from torch_impl import dcgan

MODULES = {'dcgan': dcgan}
