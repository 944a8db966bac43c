"""tagpilot benchmarks: every measurement is reported beside a baseline run in the same process."""
