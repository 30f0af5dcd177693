"""Input from people, machines and timers: parse, call one service, map the result or error."""
