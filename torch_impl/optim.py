"""``ChainerAdam``: a ``torch.optim.Optimizer`` that performs Chainer 7.8.1's
``optimizers.Adam`` update, operation for operation.

Chainer, per parameter, with t counted from 1::

    m += (1 - beta1) * (g - m)
    v += (1 - beta2) * (g*g - v)
    alpha_t = alpha * sqrt(1 - beta2**t) / (1 - beta1**t)
    p = (1 - eta*weight_decay_rate) * p - eta * alpha_t * m / (sqrt(v) + eps)

``torch.optim.Adam`` adds eps to the *bias-corrected* sqrt(v), i.e. it is
Chainer's rule with eps scaled by 1/sqrt(1 - beta2**t), which matters when
gradients are small (see ``tests`` and the semantics notes). Chainer also
advances ``t`` for a parameter that has no gradient; here such a parameter is
skipped, as Chainer's rule skips the update itself (``grad is None``).
"""
import math

import numpy as np
import torch


class ChainerAdam(torch.optim.Optimizer):

    def __init__(self, params, alpha=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                 eta=1.0, weight_decay_rate=0.0, amsgrad=False):
        defaults = dict(alpha=alpha, beta1=beta1, beta2=beta2, eps=eps, eta=eta,
                        weight_decay_rate=weight_decay_rate, amsgrad=amsgrad)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group['params']:
                if param.grad is not None:
                    self._update(param, group)
        return loss

    def _update(self, param, group):
        state = self.state[param]
        if not state:
            state['t'] = 0
            state['m'] = torch.zeros_like(param)
            state['v'] = torch.zeros_like(param)
            if group['amsgrad']:
                state['vhat'] = torch.zeros_like(param)
        state['t'] += 1
        beta1, beta2, t = group['beta1'], group['beta2'], state['t']
        grad, m, v = param.grad, state['m'], state['v']
        m.add_((grad - m) * (1.0 - beta1))
        v.add_((grad * grad - v) * (1.0 - beta2))
        if group['amsgrad']:
            torch.maximum(state['vhat'], v, out=state['vhat'])
            v = state['vhat']
        alpha_t = group['alpha'] * math.sqrt(1.0 - beta2 ** t) / (1.0 - beta1 ** t)
        step = torch.div(torch.tensor(alpha_t, dtype=param.dtype, device=param.device),
                         _sqrt_correctly_rounded(v) + group['eps'])
        eta, decay = group['eta'], group['weight_decay_rate']
        if decay:
            param.mul_(1.0 - eta * decay)
        param.add_((step * m) * (-eta))


def _sqrt_correctly_rounded(v):
    # torch's float32 sqrt on CPU is 1 ulp off NumPy's correctly rounded sqrt
    # for ~10% of inputs. On the CPU NumPy's own sqrt of the same memory is
    # exact and 10x faster than a float64 round trip; elsewhere the float64
    # round trip rounds correctly.
    if v.dtype == torch.float64:
        return v.sqrt()
    if v.device.type == 'cpu':
        return torch.from_numpy(np.sqrt(v.numpy()))
    return v.double().sqrt().to(v.dtype)
