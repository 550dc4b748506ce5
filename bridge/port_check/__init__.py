"""Check that a PyTorch port computes what a Chainer model computes, layer by
layer: ``check_port`` returns a ``PortCheck`` (its table, first divergence and
diagnosis, as text or JSON); ``assert_same_program`` is the same for a test
suite. The catalogue of diagnoses is ``CATALOGUE``."""
from bridge.port_check.check import assert_same_program, check_port
from bridge.port_check.diagnosis import CATALOGUE
from bridge.port_check.report import PortCheck

__all__ = ['CATALOGUE', 'PortCheck', 'assert_same_program', 'check_port']
