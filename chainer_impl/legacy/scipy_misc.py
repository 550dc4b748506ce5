"""``scipy.misc``'s image functions, removed in SciPy 1.2-1.3, on Pillow, with
the old behaviour: an image that is not uint8 is stretched from its own
min..max (or ``cmin``..``cmax``) to ``low``..``high``; a 3-D array is RGB or
RGBA with its channels on whichever axis has 3 or 4 entries."""
import numpy

_RESAMPLE = {'nearest': 0, 'lanczos': 1, 'bilinear': 2, 'bicubic': 3, 'cubic': 3}  # Pillow's numbers


def bytescale(data, cmin=None, cmax=None, high=255, low=0):
    data = numpy.asarray(data)
    if data.dtype == numpy.uint8:
        return data
    cmin = data.min() if cmin is None else cmin
    cmax = data.max() if cmax is None else cmax
    span = (cmax - cmin) or 1
    scaled = (data.astype(numpy.float64) - cmin) * (float(high - low) / span) + low
    return (scaled.clip(low, high) + 0.5).astype(numpy.uint8)


def _channel_axis(shape, channel_axis):
    if channel_axis is not None:
        if shape[channel_axis] not in (3, 4):
            raise ValueError('Channel axis dimension is not valid.')
        return channel_axis
    for axis in (2, 1, 0):
        if shape[axis] in (3, 4):
            return axis
    raise ValueError("'arr' does not have a suitable array shape for any mode.")


def toimage(arr, high=255, low=0, cmin=None, cmax=None, pal=None, mode=None, channel_axis=None):
    from PIL import Image
    data = numpy.asarray(arr)
    if data.ndim == 2:
        image = Image.fromarray(bytescale(data, cmin, cmax, high, low), 'L')
        return image.convert(mode) if mode not in (None, 'L') else image
    if data.ndim != 3:
        raise ValueError("'arr' does not have a suitable array shape for any mode.")
    axis = _channel_axis(data.shape, channel_axis)
    pixels = numpy.ascontiguousarray(numpy.moveaxis(bytescale(data, cmin, cmax, high, low), axis, 2))
    image = Image.fromarray(pixels, 'RGB' if pixels.shape[2] == 3 else 'RGBA')
    return image.convert(mode) if mode is not None and mode != image.mode else image


def fromimage(image, flatten=False, mode=None):
    if mode is not None:
        image = image.convert(mode)
    elif image.mode == 'P':
        image = image.convert('RGBA' if 'transparency' in image.info else 'RGB')
    if flatten:
        image = image.convert('F')
    return numpy.array(image)


def imsave(name, arr, format=None):
    data = numpy.asarray(arr)
    toimage(data, channel_axis=2 if data.ndim == 3 else None).save(name, format)


def imread(name, flatten=False, mode=None):
    from PIL import Image
    with Image.open(name) as image:
        return fromimage(image, flatten=flatten, mode=mode)


def imresize(arr, size, interp='bilinear', mode=None):
    image = toimage(arr, mode=mode)
    if isinstance(size, (int, numpy.integer)):
        size = tuple((numpy.array(image.size) * (size / 100.0)).astype(int))
    elif isinstance(size, (float, numpy.floating)):
        size = tuple((numpy.array(image.size) * size).astype(int))
    else:
        size = (size[1], size[0])
    return fromimage(image.resize(size, resample=_RESAMPLE[interp]))


FUNCTIONS = {'bytescale': bytescale, 'toimage': toimage, 'fromimage': fromimage, 'imsave': imsave,
             'imread': imread, 'imresize': imresize}
