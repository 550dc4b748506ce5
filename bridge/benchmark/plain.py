"""Plain PyTorch versions of the benchmarked networks: ``nn.Sequential``,
PyTorch's default initialisation and batch normalisation, ``torch.optim.Adam``
and the ordinary ``backward``; none of the port's Chainer semantics. They
compute what the blog's iteration computes (both losses from one forward
pass, each network's gradient before either steps), so the port's time over
theirs is the price of exact Chainer semantics.

``REFERENCES`` maps a model name to a factory ``(config, device, dtype) ->
step`` where ``step()`` runs one iteration on inputs given by ``set_inputs``."""
import torch
import torch.nn.functional as F
from torch import nn


class PlainDCGAN:
    """The blog DCGAN as two ``nn.Sequential`` stacks."""

    def __init__(self, config, device, dtype):
        z_dim = config['z_dim']
        self.gen = nn.Sequential(
            nn.Linear(z_dim, 512 * 3 * 3), nn.Unflatten(1, (512, 3, 3)), nn.BatchNorm2d(512), nn.ReLU(),
            nn.ConvTranspose2d(512, 256, 2, 2, 1), nn.BatchNorm2d(256), nn.ReLU(),
            nn.ConvTranspose2d(256, 128, 2, 2, 1), nn.BatchNorm2d(128), nn.ReLU(),
            nn.ConvTranspose2d(128, 64, 2, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.ConvTranspose2d(64, 1, 3, 3, 1),
        ).to(device=device, dtype=dtype)
        self.dis = nn.Sequential(
            nn.Conv2d(1, 64, 3, 3, 1), nn.ReLU(),
            nn.Conv2d(64, 128, 2, 2, 1), nn.BatchNorm2d(128), nn.ReLU(),
            nn.Conv2d(128, 256, 2, 2, 1), nn.BatchNorm2d(256), nn.ReLU(),
            nn.Conv2d(256, 512, 2, 2, 1), nn.BatchNorm2d(512), nn.ReLU(),
            nn.Flatten(), nn.Linear(512 * 3 * 3, 2),
        ).to(device=device, dtype=dtype)
        adam = config['adam']
        betas = (adam['beta1'], adam['beta2'])
        self.opt_gen = torch.optim.Adam(self.gen.parameters(), lr=adam['alpha'], betas=betas, eps=adam['eps'])
        self.opt_dis = torch.optim.Adam(self.dis.parameters(), lr=adam['alpha'], betas=betas, eps=adam['eps'])

    def step(self, x_real, z):
        y_fake = self.dis(self.gen(z))
        y_real = self.dis(x_real)
        real = torch.zeros(len(z), dtype=torch.long, device=z.device)
        loss_gen = F.cross_entropy(y_fake, real)
        loss_dis = F.cross_entropy(y_fake, 1 - real) + F.cross_entropy(y_real, real)
        self.opt_gen.zero_grad()
        self.opt_dis.zero_grad()
        loss_dis.backward(inputs=list(self.dis.parameters()), retain_graph=True)
        loss_gen.backward(inputs=list(self.gen.parameters()))
        self.opt_gen.step()
        self.opt_dis.step()
        return loss_gen.detach(), loss_dis.detach()


def _down(c_in, c_out, norm=True):
    layers = [nn.Conv2d(c_in, c_out, 4, 2, 1)] + ([nn.BatchNorm2d(c_out)] if norm else [])
    return nn.Sequential(*layers, nn.LeakyReLU(0.2))


def _up(c_in, c_out, last=False):
    deconv = nn.ConvTranspose2d(c_in, c_out, 4, 2, 1)
    if last:
        return nn.Sequential(deconv, nn.Tanh())
    return nn.Sequential(deconv, nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2))


class PlainUNet(nn.Module):
    """The blog's U-Net generator (16-128 channels, BN and leaky ReLU 0.2
    throughout, skip connections by concatenation)."""

    def __init__(self):
        super().__init__()
        self.down = nn.ModuleList([_down(3, 16), _down(16, 32), _down(32, 64), _down(64, 128)])
        self.up = nn.ModuleList([_up(128, 64), _up(128, 32), _up(64, 16), _up(32, 3, last=True)])

    def forward(self, x):
        skips = []
        for layer in self.down:
            x = layer(x)
            skips.append(x)
        x = self.up[0](skips.pop())
        for layer in self.up[1:]:
            x = layer(torch.cat([x, skips.pop()], 1))
        return x


def plain_patch_discriminator():
    return nn.Sequential(_down(3, 16, norm=False), _down(16, 32), _down(32, 64), _down(64, 128),
                         nn.Conv2d(128, 2, 4, 2, 1))


class PlainCycleGAN:
    """The blog CycleGAN: two U-Nets, two softmax patch discriminators, cycle L1 x 10."""

    def __init__(self, config, device, dtype):
        nets = [PlainUNet(), PlainUNet(), plain_patch_discriminator(), plain_patch_discriminator()]
        self.gen_ab, self.gen_ba, self.dis_a, self.dis_b = [n.to(device=device, dtype=dtype) for n in nets]
        adam = config['adam']
        betas = (adam['beta1'], adam['beta2'])
        gens = list(self.gen_ab.parameters()) + list(self.gen_ba.parameters())
        self.opt_gen = torch.optim.Adam(gens, lr=adam['alpha'], betas=betas, eps=adam['eps'])
        self.opt_dis = torch.optim.Adam(list(self.dis_a.parameters()) + list(self.dis_b.parameters()),
                                        lr=adam['alpha'], betas=betas, eps=adam['eps'])
        self.lambda_cycle = config['lambda_cycle']

    @staticmethod
    def _patch_loss(y, label):
        target = torch.full((y.shape[0], y.shape[2], y.shape[3]), label, dtype=torch.long, device=y.device)
        return F.cross_entropy(y, target)

    def step(self, x_a, x_b):
        fake_b, fake_a = self.gen_ab(x_a), self.gen_ba(x_b)
        cycle = (F.l1_loss(self.gen_ba(fake_b), x_a) + F.l1_loss(self.gen_ab(fake_a), x_b)) * self.lambda_cycle
        y_fake_b, y_fake_a = self.dis_b(fake_b), self.dis_a(fake_a)
        loss_gen = self._patch_loss(y_fake_b, 0) + self._patch_loss(y_fake_a, 0) + cycle
        loss_dis_a = self._patch_loss(self.dis_a(x_a), 0) + self._patch_loss(y_fake_a, 1)
        loss_dis_b = self._patch_loss(self.dis_b(x_b), 0) + self._patch_loss(y_fake_b, 1)
        self.opt_gen.zero_grad()
        self.opt_dis.zero_grad()
        dis_params = self.opt_dis.param_groups[0]['params']
        (loss_dis_a + loss_dis_b).backward(inputs=dis_params, retain_graph=True)
        loss_gen.backward(inputs=self.opt_gen.param_groups[0]['params'])
        self.opt_dis.step()
        self.opt_gen.step()
        return loss_gen.detach(), loss_dis_a.detach(), loss_dis_b.detach()


def plain_reference(config, device, dtype):
    """The plain version of ``config``'s model, or None where there is none."""
    model = config['model']
    if model == 'dcgan':
        return PlainDCGAN(config, device, dtype)
    if model == 'cyclegan' and config['architecture'] == 'blog' and config['gan_loss'] == 'sce':
        return PlainCycleGAN(config, device, dtype)
    return None
