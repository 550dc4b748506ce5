"""Download MNIST or Fashion-MNIST into data/, or check a copy; see --help."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gan_common.errors import exit_on_user_error  # noqa: E402
from gan_common.idx import main  # noqa: E402

if __name__ == '__main__':
    exit_on_user_error(main)()
