"""ganport: the command-line programs of the Chainer GANs and their PyTorch
port, as subcommands of one command (``ganport --help``, ``python -m ganport``)."""
