"""Text helpers shared by every domain: folding, slugs, formatting, bilingual fields."""
