"""The README's two set-up commands and .ci/run agree."""
import re
import shlex

from tests.helpers import REPO


def setup_commands():
    text = (REPO / 'README.md').read_text()
    section = text.split('## Set-up: two commands', 1)[1].split('\n## ', 1)[0]
    return [block.strip() for block in re.findall(r'```sh\n(.*?)```', section, re.S)]


def test_readme_has_exactly_two_setup_commands():
    commands = setup_commands()
    assert len(commands) == 2 and all('\n' not in c for c in commands), commands


def test_ci_runs_exactly_the_readme_test_command():
    ci_lines = [line for line in (REPO / '.ci' / 'run').read_text().splitlines()
                if line.strip() and not line.startswith('#')]
    assert ci_lines[-1] == setup_commands()[1]


def test_first_command_installs_with_the_constraint_and_runs_a_valid_main_job():
    install, *rest = setup_commands()[0].split(' && ')
    assert 'PIP_CONSTRAINT=constraints.txt' in ' && '.join(rest) or 'PIP_CONSTRAINT=constraints.txt' in install
    main_job = shlex.split(rest[-1])
    assert main_job[1] == 'scripts/compare.py'
    import importlib.util
    spec = importlib.util.spec_from_file_location('compare', REPO / 'scripts' / 'compare.py')
    compare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compare)
    args = compare.build_parser().parse_args(main_job[2:])
    assert args.model == 'dcgan' and args.dtype == 'float32'
    assert args.digits == '0' and args.final_samples >= 500  # the blog's digit-0 run, judged on N >= 500 samples
    assert 0 < args.lockstep_steps < args.steps  # a lock-step parity phase, then a process (a core) each
