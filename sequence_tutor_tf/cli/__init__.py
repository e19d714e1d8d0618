"""The `sequence-tutor` command line: one entry point, one module per subcommand."""
