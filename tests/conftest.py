"""Skips the tests that need a dataset the repository does not ship where it is absent."""
import pytest

from tests.helpers import missing_shared_data


def pytest_runtest_setup(item):
    for marker in item.iter_markers('shared_data'):
        for name in marker.args:
            reason = missing_shared_data(name)
            if reason:
                pytest.skip(reason)
