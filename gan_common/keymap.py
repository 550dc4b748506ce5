"""Name maps between Chainer ``save_npz`` keys and PyTorch ``state_dict`` keys.

Torch submodules carry the same attribute names as the Chainer children, so
only the leaf differs: ``l0z/W`` <-> ``l0z.weight``, ``bn1/gamma`` <->
``bn1.weight``, ``bn1/avg_mean`` <-> ``bn1.running_mean``, ``bn1/N`` <->
``bn1.num_batches_tracked``."""

CHAINER_TO_TORCH_LEAF = {
    'W': 'weight', 'b': 'bias', 'gamma': 'weight', 'beta': 'bias',
    'avg_mean': 'running_mean', 'avg_var': 'running_var', 'N': 'num_batches_tracked',
}
LINK_TO_CHAINER_LEAF = {'weight': 'W', 'bias': 'b'}
BN_TO_CHAINER_LEAF = {'weight': 'gamma', 'bias': 'beta', 'running_mean': 'avg_mean',
                      'running_var': 'avg_var', 'num_batches_tracked': 'N'}


def chainer_to_torch_key(key):
    """``'bn1/avg_mean'`` (or ``'/bn1/avg_mean'``) -> ``'bn1.running_mean'``."""
    parts = key.strip('/').split('/')
    parts[-1] = CHAINER_TO_TORCH_LEAF.get(parts[-1], parts[-1])
    return '.'.join(parts)


def torch_to_chainer_keys(torch_keys):
    """Map every state_dict key to its Chainer key. A module that has a
    ``running_mean`` is a batch normalisation, whose weight/bias are gamma/beta."""
    torch_keys = list(torch_keys)
    bn_modules = {k.rsplit('.', 1)[0] for k in torch_keys if k.endswith('.running_mean')}
    mapping = {}
    for key in torch_keys:
        module, leaf = key.rsplit('.', 1)
        table = BN_TO_CHAINER_LEAF if module in bn_modules else LINK_TO_CHAINER_LEAF
        mapping[key] = module.replace('.', '/') + '/' + table.get(leaf, leaf)
    return mapping


# The link names of each model's source code -> ours, by network. The DCGAN
# blog numbers its links from 1 and names its first BN (after the Linear)
# bn1, which is our bn0l; its bn2..bn4 are our bn1..bn3.
SOURCE_LINK_NAMES = {
    'dcgan': {
        'gen': {'l1': 'l0z', 'bn1': 'bn0l', 'bn2': 'bn1', 'bn3': 'bn2', 'bn4': 'bn3',
                'dc1': 'dc1', 'dc2': 'dc2', 'dc3': 'dc3', 'dc4': 'dc4'},
        'dis': {'c1': 'c0', 'c2': 'c1', 'c3': 'c2', 'c4': 'c3', 'bn1': 'bn1', 'bn2': 'bn2', 'bn3': 'bn3',
                'l1': 'l4l'},
    },
}
