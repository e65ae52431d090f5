"""Orders: what checkout writes, and their life afterwards."""
