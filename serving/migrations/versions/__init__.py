"""The store's revisions, one module each, chained by ``down_revision``."""
