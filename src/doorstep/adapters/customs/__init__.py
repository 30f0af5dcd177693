"""Customs brokers (报关行) behind ``services.ports_after_sales.CustomsBroker``."""
