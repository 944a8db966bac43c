"""``make demo``: the Blaster flow on loopback with a real registry and a real git server."""
