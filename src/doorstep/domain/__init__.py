"""Plain-Python core of doorstep: entities, value objects, state machines, rules and events."""
