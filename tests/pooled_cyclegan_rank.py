"""``ganport train`` with CycleGAN's paper networks cut down (8 channels, 2
residual blocks) and pools of 2 images, which the command line cannot set:
what ``test_distributed_pools.py`` launches as each rank
(``python -m tests.pooled_cyclegan_rank train ...`` under mpiexec/torchrun)."""
import sys

from ganport.commands import train

TINY = {'ngf': 8, 'ndf': 8, 'n_blocks': 2, 'pool_size': 2}


def tiny_config(args, make_config=train.make_train_config):
    return dict(make_config(args), **TINY)


if __name__ == '__main__':
    train.make_train_config = tiny_config
    train.main(sys.argv[2:] if sys.argv[1:2] == ['train'] else sys.argv[1:])
