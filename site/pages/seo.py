"""URLs, and what search engines and link previews read: canonical URLs and JSON-LD."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from markupsafe import Markup
from storefront.content.index import CatalogIndex
from storefront.content.models import Sculpture
from storefront.pages.urls import absolute_url, external

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


def product_ld(index: CatalogIndex, sculpture: Sculpture, image_urls: list[str]) -> Markup:
    base = str(index.site.base_url)
    url = external("pages.sculpture", base, slug=sculpture.slug)
    artist = index.catalog.artists[sculpture.artist]
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
            "brand": {"@type": "Brand", "name": index.site.name},
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
                "seller": {"@type": "Organization", "name": index.site.name},
            },
        }
    )


def _quantity(value: Decimal, unit: str) -> dict[str, Any]:
    return {"@type": "QuantitativeValue", "value": float(value), "unitCode": unit}


def breadcrumbs_ld(trail: list[tuple[str, str]], base_url: str) -> Markup:
    """BreadcrumbList for a trail of (name, app path)."""
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
                for position, (name, path) in enumerate(trail, start=1)
            ],
        }
    )
