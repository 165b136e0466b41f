"""One module per CLI command; serving/cli.py registers them.

May import anything in serving (they are the top); ``serving/cli.py`` registers them.
"""
