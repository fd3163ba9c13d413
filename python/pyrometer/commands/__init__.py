"""Subcommands of the `pyrometer` CLI, one module each: add_parser(subparsers) and main(args)."""
