"""fanpin training layer."""
