"""Cases (the 台账): a household followed from the first lead to risk elimination.

May import: ``serving.access``, ``serving.jobs``' layer and below (``documents``, ``weekly``,
``store``, ``core``); never the API, the pages, the app or the commands.
"""
