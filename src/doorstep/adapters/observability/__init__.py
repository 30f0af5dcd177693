"""Logs and metrics: structlog configuration and the Prometheus instruments."""
