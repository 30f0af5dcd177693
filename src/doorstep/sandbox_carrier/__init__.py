"""A sandbox courier company: its own small HTTP service, for development, demos and tests.

It speaks a company's API the way real ones do (``adapters/carriers/sandbox_mapping.py`` is
doorstep's side of it): takes pickup orders idempotently by ``outOrderNo``, assigns a courier,
and reports every step with signed callbacks. What real companies do wrong is a setting
(``Faults``): slow, duplicated, reordered or lost callbacks, refused creates, a forged sender.
Nothing here is imported by doorstep itself; ``doorstep sandbox-carrier`` runs it.
"""
