"""What every stage of the site shares, and nothing else: state files written whole,
the pickle log, file digests, the heap helpers and the one parallel helper.

May import: the standard library and third-party packages only, never another
storefront package.
"""
