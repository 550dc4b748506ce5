# What a 2016 script did around Chainer: matplotlib keywords since removed,
# NumPy aliases, Pillow constants and Python functions since removed.
import collections
import json
import os
import sys
import time

import numpy as np
from PIL import Image
import ImageOps
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt

figure_path = os.path.join(os.path.dirname(sys.argv[1]), 'figure.png')
start = time.clock()
plt.plot(np.arange(5, dtype=np.float))
plt.savefig(figure_path, papertype='a4', frameon=False)
with open(sys.argv[1], 'w') as out:
    json.dump({'figure_exists': os.path.isfile(figure_path), 'product': int(np.product([2, 3, 4])), 'alltrue': bool(np.alltrue([True, 1])),
               'int_alias': np.int is int, 'clock_ticks': time.clock() >= start,
               'list_is_iterable': isinstance([], collections.Iterable),
               'thumbnail': Image.new('L', (8, 8)).resize((4, 4), Image.ANTIALIAS).size,
               'old_pil_module': ImageOps.__name__, 'rank': np.rank(np.zeros((2, 3)))}, out)
