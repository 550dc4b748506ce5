"""The README's table of old APIs is the catalog's, and its command's options are the runner's."""
from chainer_impl.legacy import catalog
from chainer_impl.legacy.runner import build_parser
from tests.helpers import REPO


def readme_section():
    return (REPO / 'README.md').read_text().split('## Run your old Chainer script', 1)[1].split('\n## ', 1)[0]


def test_readme_table_is_the_catalogs():
    assert catalog.markdown_table() in readme_section(), 'regenerate it: python -m chainer_impl.legacy.catalog'


def test_readme_command_uses_the_runners_options():
    options = {action.option_strings[0] for action in build_parser()._actions if action.option_strings}
    for option in ('--device', '--data-stand-ins', '--data-dir', '--report'):
        assert option in options and option in readme_section(), option
