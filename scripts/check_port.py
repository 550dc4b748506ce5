#!/usr/bin/env python
from ganport.commands.check_port import build_parser, main  # noqa: F401

if __name__ == '__main__':
    main()
