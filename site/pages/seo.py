"""What search engines and link previews read: JSON-LD blocks made from a page's data.

Templates call these with what their context holds (a piece, its artist, the
store's settings), so the blocks show nothing a page's key does not cover.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from markupsafe import Markup
from storefront.content.models import Artist, Sculpture, SiteConfig
from storefront.pages.images import image_url, responsive_image
from storefront.pages.urls import absolute_url, external, url_for

SCHEMA_AVAILABILITY = {
    "available": "https://schema.org/InStock",
    "reserved": "https://schema.org/Reserved",
    "sold_out": "https://schema.org/SoldOut",
}


# One encoder for every block: json.dumps would build a new one per call.
_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def json_ld(data: dict[str, Any]) -> Markup:
    """A JSON-LD block; `<` is escaped so the data can never close the script."""
    text = _JSON.encode(data).replace("<", "\\u003c")
    return Markup('<script type="application/ld+json">' + text + "</script>")


def photo_urls(piece: Sculpture, site: SiteConfig) -> list[str]:
    """Public URLs of a piece's photos (their fallback JPEGs), for previews and Product data."""
    base = str(site.base_url)
    return [absolute_url(image_url(responsive_image(i.file).fallback), base) for i in piece.images]


def organization_ld(site: SiteConfig) -> Markup:
    return json_ld(
        {
            "@context": "https://schema.org",
            "@type": "ArtGallery",
            "name": site.name,
            "url": str(site.base_url),
            "email": site.contact.email,
            "telephone": site.contact.phone,
        }
    )


def product_ld(sculpture: Sculpture, artist: Artist, site: SiteConfig) -> Markup:
    base = str(site.base_url)
    url = external("pages.sculpture", base, slug=sculpture.slug)
    image_urls = photo_urls(sculpture, site)
    return json_ld(
        {
            "@context": "https://schema.org",
            "@type": "Product",
            "@id": url + "#product",
            "name": sculpture.title,
            "url": url,
            "sku": sculpture.slug,
            "image": image_urls,
            "description": sculpture.description.split("\n\n")[0].strip(),
            "material": ", ".join(sculpture.materials),
            "brand": {"@type": "Brand", "name": site.name},
            "creator": {
                "@type": "Person",
                "name": artist.name,
                "url": external("pages.artist", base, slug=artist.slug),
            },
            "height": _quantity(sculpture.dimensions.height_cm, "CMT"),
            "width": _quantity(sculpture.dimensions.width_cm, "CMT"),
            "depth": _quantity(sculpture.dimensions.depth_cm, "CMT"),
            "weight": _quantity(sculpture.weight_kg, "KGM"),
            "offers": {
                "@type": "Offer",
                "url": url,
                "price": f"{sculpture.price.amount:.2f}",
                "priceCurrency": sculpture.price.currency,
                "availability": SCHEMA_AVAILABILITY["available"],
                "itemCondition": "https://schema.org/NewCondition",
                "seller": {"@type": "Organization", "name": site.name},
            },
        }
    )


def _quantity(value: Decimal, unit: str) -> dict[str, Any]:
    return {"@type": "QuantitativeValue", "value": float(value), "unitCode": unit}


Crumb = tuple[str, str, dict[str, Any]]  # (name, endpoint, values)


def crumb_links(trail: list[Crumb]) -> list[tuple[str, str]]:
    """(name, app path) of each step of a page's trail."""
    return [(name, url_for(endpoint, **values)) for name, endpoint, values in trail]


def breadcrumbs_ld(links: list[tuple[str, str]], site: SiteConfig) -> Markup:
    """BreadcrumbList for a trail of (name, app path)."""
    base_url = str(site.base_url)
    return json_ld(
        {
            "@context": "https://schema.org",
            "@type": "BreadcrumbList",
            "itemListElement": [
                {
                    "@type": "ListItem",
                    "position": position,
                    "name": name,
                    "item": absolute_url(path, base_url),
                }
                for position, (name, path) in enumerate(links, start=1)
            ],
        }
    )
