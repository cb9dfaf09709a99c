"""Search engines and sharing: canonical addresses, hreflang, share cards, JSON-LD, sitemaps."""
