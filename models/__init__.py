"""fanpin models layer."""
