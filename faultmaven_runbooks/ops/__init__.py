"""Operating the library: usage analytics, backups."""
