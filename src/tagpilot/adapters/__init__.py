"""The imperative shell: every module here does I/O and translates foreign errors."""
