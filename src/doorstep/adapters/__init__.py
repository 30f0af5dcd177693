"""Everything that talks to another process, each behind a port defined in services."""
