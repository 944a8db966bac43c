"""HTTP surface of the daemon: health, metrics, webhooks and the JSON API."""
