"""Courier companies over HTTP: a pure mapping per company, the I/O in one place (``http``)."""
