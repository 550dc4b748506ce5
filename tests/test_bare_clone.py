"""A clone with nothing beside it: every test that needs a dataset the
repository does not ship finds it through one place (tests/helpers.py) and
skips, saying why, where it is absent."""
import re
import subprocess
import sys

from tests.helpers import REPO, SHARED_DATA_ENV, checkout_env

TEST_DIRS = ('tests', 'parity_tests')


def test_no_test_looks_beside_the_checkout_but_through_the_helper():
    offenders = []
    for folder in TEST_DIRS:
        for path in sorted((REPO / folder).glob('*.py')):
            if path.name == 'helpers.py':
                continue
            text = path.read_text(encoding='utf-8')
            if re.search(r"""/\s*['"]shared['"]|['"]shared['"]\s*/|join\([^)]*['"]shared['"]|\.\./shared|REPO\.parent""", text):
                offenders.append(path.name)
    assert not offenders, f'read SHARED_DATA from tests.helpers instead: {offenders}'


def test_data_dependent_tests_skip_with_their_reason_when_nothing_is_beside_the_checkout(tmp_path):
    """Runs every test marked shared_data with the shared folder hidden: each
    must skip naming what it needs (a failure or an unexplained skip fails)."""
    env = checkout_env(**{SHARED_DATA_ENV: str(tmp_path / 'nothing-here')})
    result = subprocess.run([sys.executable, '-m', 'pytest', *TEST_DIRS, '-m', 'shared_data', '-rs', '-q',
                             '-p', 'no:cacheprovider'], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    skips = [line for line in output.splitlines() if line.startswith('SKIPPED')]
    counted = re.search(r'(\d+) skipped', output)
    assert counted and int(counted.group(1)) >= 4 and ' passed' not in output.splitlines()[-1], output
    print(f'{counted.group(1)} data-dependent tests skip on a bare clone')
    for line in skips:
        assert 'which the repository does not ship' in line and str(tmp_path / 'nothing-here') in line, line
