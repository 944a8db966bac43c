"""The functional core: pure decisions over values, no I/O, no clock, no environment."""
