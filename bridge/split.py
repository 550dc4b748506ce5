"""The rest of a ``Lockstep`` run in two processes, a core each: PyTorch in a
forked child, Chainer in this process. Each draws the batches and noise from
its own copy of the stream, in the state both share at the fork, so both
frameworks train on exactly the inputs a lock-step run gives them. The child
sends each iteration's losses and time (and, where asked, its sample grid)
through a pipe, and at the end its networks' state, which is loaded into this
process's PyTorch networks to measure the final drift."""
import collections
import multiprocessing
import signal

import numpy as np
import torch

from chainer_impl.speed import set_blas_threads
from gan_common.errors import UserError


def can_split(lockstep):
    """Whether the two frameworks can go on in two processes: a fork (Linux) on CPUs."""
    return ('fork' in multiprocessing.get_all_start_methods() and lockstep.chainer_device.xp is np
            and lockstep.torch_device.type == 'cpu')


class Split:
    """``with Split(lockstep, steps, grid_at, fixed) as split: for row, torch_grid in split.rows(): ...``

    ``steps`` more iterations of both frameworks; at the iterations in
    ``grid_at`` the child also sends its grid of ``fixed`` (``Lockstep.grid``).
    Rows are ``Lockstep.row``'s with ``param_drift`` None, except the last
    one's, measured once the child's weights are loaded. Chainer keeps one
    BLAS thread after the child is done: two were slower (measured with the
    machine busy: 1.8 s against 5.0 s a step)."""

    def __init__(self, lockstep, steps, grid_at, fixed):
        self.lockstep = lockstep
        self.steps = steps
        self.grid_at = frozenset(grid_at)
        self.fixed = fixed
        self.received = collections.deque()
        self.child_done = False
        self.process = None

    def __enter__(self):
        context = multiprocessing.get_context('fork')
        self.connection, child_end = context.Pipe(duplex=False)
        self.process = context.Process(target=self._run_torch, args=(child_end,), daemon=True)
        self.process.start()
        child_end.close()  # so that the child's death reads as the end of the pipe here
        set_blas_threads(1)  # one core each
        return self

    def __exit__(self, *exc_info):
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        self.connection.close()

    @property
    def pid(self):
        return self.process.pid

    # ---------------------------------------------------------------- the child: PyTorch
    def _run_torch(self, connection):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent ends it on Ctrl-C
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # and with terminate(): no cleanup of the parent's here
        self.connection.close()  # the parent's end: with it closed here, a parent that died ends this process
        torch.set_num_threads(1)
        lockstep = self.lockstep
        try:
            for _ in range(self.steps):
                losses, ms = lockstep.step_torch(lockstep.draw_inputs())
                lockstep.iteration += 1
                grid = lockstep.grid('torch', self.fixed) if lockstep.iteration in self.grid_at else None
                connection.send(('step', losses, ms, grid))
            connection.send(('state', lockstep.torch_state()))
        except (BrokenPipeError, ConnectionResetError):  # the parent is gone: nobody to report to
            raise SystemExit(1)
        except Exception as error:  # reported by the parent, in one line
            connection.send(('error', f'{type(error).__name__}: {error}'))
            raise SystemExit(1)

    # ---------------------------------------------------------------- this process: Chainer
    def rows(self):
        lockstep = self.lockstep
        for number in range(1, self.steps + 1):
            self._receive_waiting()
            c_losses, chainer_ms = lockstep.step_chainer(lockstep.draw_inputs())
            lockstep.iteration += 1
            _, t_losses, torch_ms, grid = self._next('step')
            drift = self._finish() if number == self.steps else None
            yield lockstep.row(c_losses, t_losses, chainer_ms, torch_ms, drift), grid

    def _finish(self):
        """Load the child's final weights into the PyTorch networks; the parameter drift."""
        _, state = self._next('state')
        self.process.join()
        self.lockstep.load_torch_state(state)
        return self.lockstep.parameter_drift()

    def _next(self, kind):
        while not self.received:
            self._receive()
        message = self.received.popleft()
        assert message[0] == kind, (message[0], kind)
        return message

    def _receive_waiting(self):
        """Read what the child has sent so far, which also finds at once that it died."""
        while not self.child_done and self.connection.poll():
            self._receive()

    def _receive(self):
        try:
            message = self.connection.recv()
        except EOFError:
            raise UserError(self._death()) from None
        if message[0] == 'error':
            raise UserError(f'the PyTorch process failed after iteration {self.lockstep.iteration}: {message[1]}')
        if message[0] == 'state':
            self.child_done = True
        self.received.append(message)

    def _death(self):
        self.process.join(timeout=10)
        code = self.process.exitcode
        how = (f'killed by {signal.Signals(-code).name}' if code is not None and code < 0
               else f'exit status {code}')
        return (f'the PyTorch process (pid {self.pid}) died ({how}) while Chainer was at iteration '
                f'{self.lockstep.iteration}; no results were kept: run the command again')
