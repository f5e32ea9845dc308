"""Applications built on the library: the paper's demo (``neurorx demo``).

Nothing in the library core imports from here; the protocol scripts in ``protocols/`` do not either.
"""
