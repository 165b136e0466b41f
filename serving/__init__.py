"""fanpin serving layer."""
