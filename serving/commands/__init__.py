"""One module per CLI command; serving/cli.py registers them."""
