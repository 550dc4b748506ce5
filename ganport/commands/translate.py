"""Translate a folder of images with a CycleGAN checkpoint.

Translate a folder of images with a CycleGAN checkpoint, one output PNG per
input (same name, .png), at any image size.

--fit pad (default): the image keeps its resolution; it is padded on the
right and bottom by mirroring (numpy 'reflect') up to the next size the
generator takes (a multiple of 16 for the blog U-Net, of 4 for the paper's
ResNet), translated, and cropped back. --fit resize: resized (bicubic) to
the square size the model was trained at, translated, and resized back.

--report-cycle also runs the other generator on each translation and prints
the cycle reconstruction L1, mean |F(G(x)) - x| over all pixels of all
images in the model's pixel scale (about [-1, 1]), and writes it to OUTPUT_DIR/cycle_l1.json.

Example: ganport translate runs/cyclegan-torch-quick/snapshot_iter_12000.pt photos/ zebras/ --direction AtoB
"""
import argparse
import os
from pathlib import Path

import numpy as np
from PIL import Image

from bridge.generation import TrainedNetworks
from gan_common.cycle import GENERATOR_SIZE_RULES
from gan_common.datasets import SCALINGS
from gan_common.errors import UserError, exit_on_user_error
from gan_common.files import atomic_path, ensure_writable_dir
from gan_common.images import to_uint8
from gan_common.rundir import write_json
from gan_common.unpaired import list_images, read_image

GENERATORS = {'AtoB': ('gen_ab', 'gen_ba'), 'BtoA': ('gen_ba', 'gen_ab')}  # (translate, back)


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkpoint', help='cyclegan snapshot_iter_N.npz (Chainer) or snapshot_iter_N.pt (PyTorch)')
    parser.add_argument('input_dir', help='folder of .jpg/.jpeg/.png images')
    parser.add_argument('output_dir', help='folder for the translations (created if needed)')
    parser.add_argument('--direction', choices=list(GENERATORS), default='AtoB')
    parser.add_argument('--fit', choices=['pad', 'resize'], default='pad',
                        help='pad to a size the generator takes (default) or resize to the training size')
    parser.add_argument('--report-cycle', action='store_true', help='print and save the cycle reconstruction L1')
    parser.add_argument('--device', default='cpu', help='cpu, cuda, cuda:N, @numpy, @cupy:N, -1 or N')
    return parser


def load(path, device):
    """(config, run(name, x) -> NumPy): the checkpoint's generators in test mode."""
    networks = TrainedNetworks(path, device)
    if networks.model != 'cyclegan':
        raise UserError(f'{path} is a {networks.model} checkpoint; translate.py needs a cyclegan one '
                        '(draw samples from the others with ganport sample)')
    return networks.config, networks.run


def fit(pixels, config, how):
    """uint8 (3, H, W) -> the network's input, scaled, as (1, 3, H', W')."""
    if how == 'resize':
        size = config['image_size']
        pixels = np.asarray(Image.fromarray(pixels.transpose(1, 2, 0)).resize((size, size), Image.BICUBIC)).transpose(2, 0, 1)
    else:
        multiple, least = GENERATOR_SIZE_RULES[config['architecture']]
        height, width = pixels.shape[1:]
        target = [max(least, -(-n // multiple) * multiple) for n in (height, width)]
        pixels = np.pad(pixels, ((0, 0), (0, target[0] - height), (0, target[1] - width)), mode='reflect')
    divide, subtract = SCALINGS[config['scaling']]
    dtype = np.dtype(config['dtype']).type
    return (pixels.astype(dtype) / dtype(divide) - dtype(subtract))[None]


def unfit(image, shape, how, value_range):
    """The network's output (1, 3, H', W') back to the input's (H, W), as an RGB picture."""
    picture = Image.fromarray(to_uint8(image, value_range)[0])
    height, width = shape
    if how == 'resize':
        return picture.resize((width, height), Image.BICUBIC)
    return picture.crop((0, 0, width, height))


def crop(image, shape):
    return image[..., :shape[0], :shape[1]]


@exit_on_user_error
def main(argv=None):
    args = build_parser().parse_args(argv)
    paths = list_images(args.input_dir, 'pass a folder of .jpg/.jpeg/.png images as INPUT_DIR')
    config, run = load(args.checkpoint, args.device)
    for path in paths:  # every input is checked before anything is written
        read_image(path, None)
    out = Path(ensure_writable_dir(args.output_dir))
    forward, back = GENERATORS[args.direction]
    total, pixels_seen = 0.0, 0
    for path in paths:
        pixels = read_image(path, None)
        x = fit(pixels, config, args.fit)
        y = run(forward, x)
        with atomic_path(out / f'{path.stem}.png') as tmp:
            unfit(y, pixels.shape[1:], args.fit, config['value_range']).save(tmp, format='PNG')
        if args.report_cycle:
            shape = pixels.shape[1:] if args.fit == 'pad' else x.shape[2:]
            error = np.abs(crop(run(back, y), shape).astype(np.float64) - crop(x, shape))
            total, pixels_seen = total + error.sum(), pixels_seen + error.size
    print(f'wrote {len(paths)} translations ({args.direction}, --fit {args.fit}) to {out}')
    if args.report_cycle:
        loop = 'A -> B -> A' if args.direction == 'AtoB' else 'B -> A -> B'
        l1 = total / pixels_seen
        write_json(os.path.join(out, 'cycle_l1.json'), {'direction': args.direction, 'fit': args.fit, 'images': len(paths),
                                                        'cycle_l1': l1, 'checkpoint': str(args.checkpoint)})
        print(f'cycle L1 ({loop}) over {len(paths)} images: {l1:.4f} (mean |F(G(x)) - x|, pixels scaled to about [-1, 1])')


if __name__ == '__main__':
    main()
