"""Stage 2, pages: the Flask views that turn the catalog into HTML, feeds and files.

Views, templates and their helpers (filters, fragments, Markdown), assets and
responsive images, URL building and the SEO data pages carry.

May import: storefront.content, storefront.common. Never search, freeze or publish.
"""
