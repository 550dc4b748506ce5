"""One module per subcommand of ``ganport``: ``commands/check_port.py`` is
``ganport check-port``. Each exports ``build_parser()`` and ``main(argv=None)``,
and the first line of its docstring is the summary ``ganport --help`` shows.
A new module here is a new subcommand; nothing else needs editing."""
