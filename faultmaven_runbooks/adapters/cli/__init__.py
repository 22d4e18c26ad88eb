"""The command line: serve, index, search, and the feature areas' commands."""
