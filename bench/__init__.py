"""``make bench``: login time, bridge capacity and round trips, measured on the sandbox."""
