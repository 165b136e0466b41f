"""Access and security: who may sign in and see what.

- ``auth``: users, roles, password hashing, bearer tokens, the township scope, masking of what a
  role may not see, the audit of reads;
- ``usernames``: a user name as stored and compared (NFKC, trimmed, no look-alike scripts);
- ``throttle``: sign-in attempts counted in the store (atomic), lock-outs;
- ``security_headers``: the headers every response carries (CSP, frame and sniffing guards).

May import: ``serving.store`` and the layers under it, ``serving.settings``; never the API, the
pages, cases, reads or the jobs (they import this: the demo job makes its users here).
"""
