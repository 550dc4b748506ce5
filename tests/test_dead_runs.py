"""Dead runs stop with one line: the criterion (``gan_common.training.dead_run``,
a pure function of the logged history) on recorded logs of runs that died
and of healthy runs (tests/data/logs/README.md says how each was made), and
the trainers' use of it."""
import gzip
import json
from pathlib import Path

import pytest

from gan_common import training
from gan_common.errors import UserError

LOGS = Path(__file__).resolve().parent / 'data' / 'logs'
SHORT_WINDOW = 100  # stricter than the trainers' 500: a healthy log must pass even this


def read(name):
    path = LOGS / name
    text = gzip.decompress(path.read_bytes()).decode() if path.suffix == '.gz' else path.read_text()
    return [json.loads(line) for line in text.splitlines()]


def first_trip(history, window):
    """The iteration at which a run logging ``history`` would have been stopped, or None."""
    for end in range(1, len(history) + 1):
        if training.dead_run(history[:end], window) is not None:
            return history[end - 1]['iteration']
    return None


def test_the_recorded_saturated_gan_is_dead_after_the_window():
    history = read('gan-quick-lr0.05-torch-dead.jsonl')
    since, why = training.dead_run(history)
    print('gan: stopped at', first_trip(history, training.DEAD_WINDOW), 'dead since', since, why)
    assert first_trip(history, training.DEAD_WINDOW) == training.DEAD_WINDOW
    assert 'saturated' in why and 'no gradient' in why


def test_the_recorded_cgan_book_death_is_dead():
    """Keras's clipped BCE: D says 1 - 1e-7 to everything, loss_gen 1.2e-7 for good."""
    history = read('cgan-book-lr0.05-torch-dead.jsonl')
    assert history[-1]['loss_gen'] < 2e-7 and abs(history[-1]['loss_dis_fake'] - 15.94) < 0.01
    found = training.dead_run(history, SHORT_WINDOW)
    print('cgan:', found)
    assert found is not None and 'loss_gen 1.19e-07' in found[1]
    assert training.dead_run(history) is None  # 100 iterations are shorter than the trainers' window


def test_the_recorded_book_cgan_with_seed_0_stops_where_its_loss_froze():
    """The book preset itself, seed 0: one blob for every label, then from
    about iteration 3,350 loss_gen frozen at -log(1e-7), Keras's clip."""
    history = read('cgan-book-seed0-torch-dead.jsonl.gz')
    stopped = first_trip(history, training.DEAD_WINDOW)
    since, why = training.dead_run([e for e in history if e['iteration'] <= stopped])
    print('cgan book seed 0: stopped at', stopped, 'dead since', since, why)
    assert stopped == history[-1]['iteration'] == 3840  # the trainer stopped there, and so does the criterion
    assert 3300 <= since <= 3400 and 'frozen at 16.1181' in why


def test_the_recorded_gan_the_discriminator_beat_is_dead_and_its_earlier_recovery_is_not():
    """The discriminator's loss at 5e-30 for good from iteration 8,460 (the
    generator's images saturated black and white, one pattern); from 2,810 to
    4,030 it sat at 1e-6 with loss_gen 39 and the run recovered."""
    history = read('gan-beta05-lr1e-4-torch-dead.jsonl.gz')
    stopped = first_trip(history, training.DEAD_WINDOW)
    since, why = training.dead_run([e for e in history if e['iteration'] <= stopped])
    print('gan beta05 lr 1e-4: stopped at', stopped, 'dead since', since, why)
    assert 8460 <= since < stopped <= 8460 + training.DEAD_WINDOW
    assert 'with certainty (loss_dis' in why
    recovered = [e for e in history if 2810 <= e['iteration'] < 4030]
    assert max(e['loss_dis'] for e in recovered) < 1e-3 and min(e['loss_gen'] for e in recovered) > 25


def test_the_discriminator_loss_is_the_sum_of_its_parts():
    assert training.discriminator_loss({'loss_gen': 3.0, 'loss_dis_real': 1e-9, 'loss_dis_fake': 2e-9}) == pytest.approx(3e-9)
    assert training.discriminator_loss({'loss_gen': 3.0}) is None
    split = [{'iteration': i, 'loss_gen': 5.0 + i % 3, 'loss_dis_real': 1e-12, 'loss_dis_fake': 0.5}
             for i in range(10, 1010, 10)]
    assert training.dead_run(split) is None  # one part at zero is not the discriminator at zero


@pytest.mark.parametrize('name', sorted(p.name for p in LOGS.glob('healthy-*.jsonl*')))
def test_healthy_runs_never_trip_it(name):
    history = read(name)
    print(name, 'iterations', history[-1]['iteration'], 'min loss_gen', min(e['loss_gen'] for e in history),
          'min loss_dis', min(training.discriminator_loss(e) for e in history))
    assert first_trip(history, SHORT_WINDOW) is None
    assert first_trip(history, training.DEAD_WINDOW) is None


def test_a_frozen_generator_loss_is_dead_and_a_noisy_small_one_is_not():
    frozen = [{'iteration': i, 'loss_gen': 16.118095, 'loss_dis': 0.3 + 0.01 * (i % 7)} for i in range(10, 1010, 10)]
    assert training.dead_run(frozen) is not None
    lively = [{'iteration': i, 'loss_gen': 1e-3 * (1 + i // 10 % 5), 'loss_dis': 3.0} for i in range(10, 1010, 10)]
    assert training.dead_run(lively) is None


def test_check_alive_names_the_iteration_the_last_good_snapshot_and_what_to_try(tmp_path):
    history = read('gan-quick-lr0.05-torch-dead.jsonl')
    (tmp_path / 'snapshot_iter_5.pt').write_bytes(b'')
    (tmp_path / 'snapshot_iter_100.pt').write_bytes(b'')
    with pytest.raises(UserError) as error:
        training.check_alive(history, tmp_path, '.pt')
    message = str(error.value)
    assert '\n' not in message
    assert 'iteration 500' in message and 'snapshot_iter_5.pt' in message and '--seed' in message


def test_finite_losses_pass_and_a_nan_names_the_iteration(tmp_path):
    training.check_finite({'loss_gen': 1.0}, 3, tmp_path, '.pt')
    with pytest.raises(UserError, match='the run died: the loss became NaN/inf at iteration 3'):
        training.check_finite({'loss_gen': float('nan')}, 3, tmp_path, '.pt')
