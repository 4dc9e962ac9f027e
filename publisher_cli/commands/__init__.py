"""One module per command: a plain function doing the work and a thin click wrapper.

Command modules import only click and the standard library at module level so
that ``solreg --help`` stays fast; heavy libraries load when a command runs.
"""
