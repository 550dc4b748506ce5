#!/usr/bin/env python
from ganport.commands.upstream_chainer_tests import build_parser, main  # noqa: F401

if __name__ == '__main__':
    main()
