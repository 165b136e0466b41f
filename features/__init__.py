"""fanpin features layer."""
