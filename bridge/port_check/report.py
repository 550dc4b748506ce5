"""What a check found: one row per paired layer call, the first divergence
with its diagnosis, and the whole as text (the table users read) or as JSON."""
import json
from dataclasses import asdict, dataclass, field


@dataclass
class Row:
    chainer: str
    torch: str
    kind: str
    mode: str
    chainer_shape: list
    torch_shape: list
    max_abs_diff: float
    max_rel_diff: float
    passed: bool
    gradient_max_abs_diff: float = None
    gradient_max_rel_diff: float = None
    gradient_passed: bool = None
    step_max_abs_diff: float = None
    step_passed: bool = None


@dataclass
class Divergence:
    chainer: str
    torch: str
    quantity: str  # 'forward' | 'gradient' | 'step'
    max_abs_diff: float
    cause: str
    explanation: str
    mode: str = 'train'


@dataclass
class PortCheck:
    pairing: str  # 'names' | 'order'
    dtype: str
    tolerance: float
    dropout_masks: str = 'shared'  # in train mode: 'shared' (PyTorch applies Chainer's) | 'independent'
    rows: list = field(default_factory=list)
    first_divergence: Divergence = None
    summary: list = field(default_factory=list)  # (quantity, max abs, max rel) lines below the table

    @property
    def passed(self):
        return self.first_divergence is None

    def to_json(self):
        divergence = None
        if self.first_divergence is not None:
            divergence = {k: v for k, v in asdict(self.first_divergence).items()}
            divergence['max_abs_diff'] = finite(divergence['max_abs_diff'])
        return {'passed': self.passed, 'pairing': self.pairing, 'dropout_masks': self.dropout_masks,
                'layers': [{k: finite(v) for k, v in asdict(row).items()} for row in self.rows],
                'first_divergence': divergence}

    def dumps(self):
        return json.dumps(self.to_json(), indent=2)

    def __str__(self):
        return self.text()

    def text(self):
        header = ('chainer', 'torch', 'mode', 'chainer shape', 'torch shape', 'max abs', 'max rel', 'grad max abs', '')
        lines = [header]
        for row in self.rows:
            grad = '' if row.gradient_max_abs_diff is None else f'{row.gradient_max_abs_diff:.2e}'
            ok = row.passed and row.gradient_passed is not False and row.step_passed is not False
            lines.append((row.chainer, row.torch, row.mode, shape_text(row.chainer_shape), shape_text(row.torch_shape),
                          f'{row.max_abs_diff:.2e}', f'{row.max_rel_diff:.2e}', grad, 'ok' if ok else 'FAIL'))
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        table = ['  '.join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines]
        out = [f'pairing by {self.pairing}; {self.dtype}, tolerance {self.tolerance:.0e} (max |a - b| / max(1, |a|)); '
               f'dropout masks {DROPOUT_MASKS[self.dropout_masks]}']
        out += table
        out += [f'{name}: max abs {a:.2e}, max rel {r:.2e}' for name, a, r in self.summary]
        if self.passed:
            out.append('PASS: every layer output, the outputs, the loss, every gradient'
                       + (' and every step' if any(row.step_passed is not None for row in self.rows) else '')
                       + ' agree')
        else:
            d = self.first_divergence
            out.append(f"FAIL: first divergence at Chainer '{d.chainer}' / PyTorch '{d.torch}' ({d.quantity}, "
                       f'{d.mode} mode), max abs diff {d.max_abs_diff:.3e}')
            out.append(f'cause: {d.cause}: {d.explanation}')
        return '\n'.join(out)


DROPOUT_MASKS = {'shared': "shared (PyTorch applies Chainer's in train mode)",
                 'independent': 'independent (each framework draws its own)'}


def shape_text(shape):
    return 'x'.join(map(str, shape)) if shape is not None else '-'


def finite(value):
    """JSON has no infinity: a missing or mismatched value is reported as null."""
    if isinstance(value, float) and (value != value or value in (float('inf'), float('-inf'))):
        return None
    return value
