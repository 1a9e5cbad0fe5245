"""`backchannel`, the command line: `main` assembles one sub-app per command group.

`output` prints (safe text, tables, errors, JSON) and `context` reaches the server;
the command modules use both and import nothing from `main` or from each other.
"""
