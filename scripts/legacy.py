#!/usr/bin/env python
from ganport.commands.legacy import build_parser, main  # noqa: F401

if __name__ == '__main__':
    main()
