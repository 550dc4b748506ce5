"""``TorchAdam``: a Chainer optimizer that performs ``torch.optim.Adam``'s
update (PyTorch 2.x, single-tensor path, no weight decay, no amsgrad),
operation for operation, for Chainer ports of models whose source is PyTorch.

PyTorch, per parameter, with t counted from 1::

    m += (1 - beta1) * (g - m)                      # exp_avg.lerp_(g, 1 - beta1)
    v = beta2 * v + (1 - beta2) * g * g             # exp_avg_sq.mul_(beta2).addcmul_(g, g, 1 - beta2)
    p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

Chainer's ``optimizers.Adam`` adds eps to the *uncorrected* sqrt(v) instead,
which differs when gradients are small (see ``torch_impl/optim.py`` for the
reverse port, ``ChainerAdam``).
"""
from chainer_impl import compat  # noqa: F401  (before chainer)
import chainer
from chainer import optimizer

_default_hyperparam = optimizer.Hyperparameter()
_default_hyperparam.lr = 1e-3
_default_hyperparam.beta1 = 0.9
_default_hyperparam.beta2 = 0.999
_default_hyperparam.eps = 1e-8


class TorchAdamRule(optimizer.UpdateRule):

    def init_state(self, param):
        xp = chainer.backend.get_array_module(param.data)
        with chainer.using_device(param.device):
            self.state['m'] = xp.zeros_like(param.data)
            self.state['v'] = xp.zeros_like(param.data)

    def update_core(self, param):
        grad = param.grad
        if grad is None:
            return
        hp, t = self.hyperparam, self.t  # UpdateRule.update has already advanced t
        m, v = self.state['m'], self.state['v']
        m += (1.0 - hp.beta1) * (grad - m)
        v *= hp.beta2
        v += (1.0 - hp.beta2) * grad * grad
        step_size = hp.lr / (1.0 - hp.beta1 ** t)
        denom = chainer.backend.get_array_module(v).sqrt(v) / (1.0 - hp.beta2 ** t) ** 0.5 + hp.eps
        param.data += (-step_size * m) / denom  # addcdiv_: p + (value * m) / denom


class TorchAdam(optimizer.GradientMethod):
    """``TorchAdam(lr, betas, eps)`` == ``torch.optim.Adam(params, lr, betas, eps)``."""

    def __init__(self, lr=_default_hyperparam.lr,
                 betas=(_default_hyperparam.beta1, _default_hyperparam.beta2),
                 eps=_default_hyperparam.eps):
        super().__init__()
        self.hyperparam.lr = lr
        self.hyperparam.beta1, self.hyperparam.beta2 = betas
        self.hyperparam.eps = eps

    lr = optimizer.HyperparameterProxy('lr')
    beta1 = optimizer.HyperparameterProxy('beta1')
    beta2 = optimizer.HyperparameterProxy('beta2')
    eps = optimizer.HyperparameterProxy('eps')

    def create_update_rule(self):
        return TorchAdamRule(self.hyperparam)
