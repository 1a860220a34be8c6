"""Stage 3, search: the static pagefind index, one record per published sculpture.

Pure shard maths (shards), the records (records), the indexer process
(indexer) and its pagefind client (pagefind_client), and canonical bundles
(bundles).

May import: storefront.pages, storefront.content, storefront.common.
"""
