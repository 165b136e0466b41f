"""fanpin monitoring layer."""
