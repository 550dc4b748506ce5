"""``torchrun`` (``torch.distributed.run``, the same arguments) with one line
of its own where it printed a traceback and log lines: a failed rank's exit
code and signal, or nothing after the SIGTERM or Ctrl-C that stopped it. The
ranks' own messages reach stderr as under torchrun."""
import logging
import os
import sys


def quiet_torch_distributed_loggers():
    """The launcher's log lines (which process it sent which signal, the
    OMP_NUM_THREADS banner) off; its exceptions still propagate."""
    for name in list(logging.root.manager.loggerDict):
        if name.startswith('torch.distributed'):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    logging.getLogger('torch.distributed').setLevel(logging.CRITICAL)


def main(argv=None):
    from torch.distributed import run as torchrun
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    quiet_torch_distributed_loggers()
    os.environ.setdefault('OMP_NUM_THREADS', '1')  # what torchrun sets for several ranks, without the banner
    try:
        torchrun.run(torchrun.parse_args(argv))
    except ChildFailedError as failed:
        rank, failure = failed.get_first_failure()
        how = f'signal {failure.signal_name()}' if failure.exitcode < 0 else f'exit status {failure.exitcode}'
        print(f'rank {rank} ended with {how}', file=sys.stderr)
        sys.exit(1)
    except SignalException as stopped:
        sys.exit(128 + int(stopped.sigval))


if __name__ == '__main__':
    main()
