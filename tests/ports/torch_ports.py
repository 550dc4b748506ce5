"""PyTorch ports of ``chainer_models.py``: correct ones (children named and
registered otherwise than the Chainer models'), and ones with exactly one
mistake each, named after the catalogue id that must be diagnosed."""
import torch
import torch.nn.functional as F
from torch import nn


class ConvNetPort(nn.Module):
    """ConvNet, children in another order under other names; each keyword one mistake."""

    def __init__(self, eps=2e-5, momentum=0.1, slope=0.2, ceil_mode=True, padding=1, stride=2, bias=True,
                 relu=True, channels_last=False, bn_eval=False, track_running_stats=True, scale=1.0):
        super().__init__()
        self.classifier = nn.LazyLinear(5)
        self.second = nn.Conv2d(4, 6, 3, stride=stride, padding=padding, bias=bias)
        self.norm = nn.BatchNorm2d(4, eps=eps, momentum=momentum, track_running_stats=track_running_stats)
        self.first = nn.Conv2d(3, 4, 3, padding=1)
        self.slope, self.ceil_mode, self.relu, self.scale = slope, ceil_mode, relu, scale
        self.channels_last = channels_last
        if bn_eval:
            self.norm.eval()

    def forward(self, x):
        h = F.max_pool2d(F.leaky_relu(self.norm(self.first(x)), self.slope), 3, 2, 1, ceil_mode=self.ceil_mode)
        h = self.second(h) * self.scale
        h = torch.relu(h) if self.relu else h
        if self.channels_last:
            h = h.permute(0, 2, 3, 1)
        return self.classifier(h.flatten(1))


class ConvNetSameNames(nn.Module):
    """ConvNet with the Chainer model's names (pairs by names)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4, eps=2e-5)
        self.conv2 = nn.Conv2d(4, 6, 3, stride=2, padding=1)
        self.fc = nn.Linear(54, 5)

    def forward(self, x):
        h = F.max_pool2d(F.leaky_relu(self.bn1(self.conv1(x)), 0.2), 3, 2, 1, ceil_mode=True)
        return self.fc(torch.relu(self.conv2(h)).flatten(1))


class ConvNetMissingLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = nn.Conv2d(3, 4, 3, padding=1)
        self.norm = nn.BatchNorm2d(4, eps=2e-5)
        self.second = nn.Conv2d(4, 6, 3, stride=2, padding=1)

    def forward(self, x):
        h = F.max_pool2d(F.leaky_relu(self.norm(self.first(x)), 0.2), 3, 2, 1, ceil_mode=True)
        return torch.relu(self.second(h)).flatten(1)[:, :5]


def correct():
    return ConvNetPort()


def bn_eps():
    return ConvNetPort(eps=1e-5)


def bn_momentum():
    return ConvNetPort(momentum=0.9)


def bn_mode():
    return ConvNetPort(bn_eval=True)


def bn_mode_no_running_stats():
    return ConvNetPort(track_running_stats=False)


def leaky_relu_slope():
    return ConvNetPort(slope=0.01)


def cover_all():
    return ConvNetPort(ceil_mode=False)


def padding():
    return ConvNetPort(padding=0)


def stride():
    return ConvNetPort(stride=1)


def missing_bias():
    return ConvNetPort(bias=False)


def missing_activation():
    return ConvNetPort(relu=False)


def flatten_order():
    return ConvNetPort(channels_last=True)


def unknown():
    return ConvNetPort(scale=1.5)


class DeconvNetPort(nn.Module):
    def __init__(self, bias=False, output_padding=1, dim=1, relu=True):
        super().__init__()
        self.up = nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=output_padding)
        self.project = nn.Linear(6, 100, bias=bias)
        self.dim, self.relu = dim, relu

    def forward(self, z):
        h = self.project(z).view(-1, 4, 5, 5)
        return torch.softmax(self.up(torch.relu(h) if self.relu else h), dim=self.dim)


def deconv_correct():
    return DeconvNetPort()


def extra_bias():
    return DeconvNetPort(bias=True)


def outsize():
    return DeconvNetPort(output_padding=0)


def softmax_axis():
    return DeconvNetPort(dim=-1)


class PadPoolNetPort(nn.Module):
    def __init__(self, count_include_pad=True):
        super().__init__()
        self.b = nn.Conv2d(3, 2, 3)
        self.a = nn.Conv2d(2, 3, 3, padding=1)
        self.count_include_pad = count_include_pad

    def forward(self, x):
        h = F.avg_pool2d(torch.relu(self.a(x)), 3, 1, 1, count_include_pad=self.count_include_pad)
        return self.b(F.pad(h, (1, 1, 1, 1), mode='reflect'))


def reflect_pad_backward():
    return PadPoolNetPort()


def avg_pool_padding():
    return PadPoolNetPort(count_include_pad=False)


class DropoutNetPort(nn.Module):
    """``place``: where the dropout goes ('hidden': after the ReLU, as in
    Chainer; 'input': on the input, functional; None: nowhere)."""

    def __init__(self, p=0.5, place='hidden'):
        super().__init__()
        self.hidden = nn.Linear(8, 16)
        self.drop = nn.Dropout(p)
        self.out = nn.Linear(16, 3)
        self.place = place

    def forward(self, x):
        if self.place == 'input':
            x = torch.nn.functional.dropout(x, self.drop.p, self.training)
        h = torch.relu(self.hidden(x))
        return self.out(self.drop(h) if self.place == 'hidden' else h)


def dropout_ratio():
    return DropoutNetPort(p=0.3)


def missing_dropout():
    return DropoutNetPort(place=None)


def dropout_place():
    return DropoutNetPort(place='input')


class LogSigmoidNetPort(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 6)

    def forward(self, x):
        return torch.log(torch.sigmoid(self.linear(x)))


class TwoLayers(nn.Module):
    """SharedNet's port with two layers where Chainer shares one."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 4)

    def forward(self, x):
        return self.b(torch.relu(self.a(x)))


class EmbedNetPort(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(5, 2)
        self.table = nn.Embedding(7, 5)

    def forward(self, labels):
        return self.head(torch.tanh(self.table(labels)))
