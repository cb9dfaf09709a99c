"""The OpenAPI 3.1 document of the API, written by hand to match shop.api.schemas exactly.

Every object declares all of its properties as required and forbids others
(additionalProperties: false); nullable values say so with a "null" type. A test fuzzes the
API against this document (tests/test_api_schemathesis.py), so the two cannot drift apart.
"""

from shop.api.cursors import MAX_CURSOR_LENGTH
from shop.api.params import DEFAULT_LIMIT, MAX_LIMIT, MAX_PRICE, MAX_QUERY_LENGTH, OCOP_STARS
from shop.cooperatives.models import LegalForm

SLUG_PATTERN = "^[a-z0-9]+(?:-[a-z0-9]+)*$"
JSON = "application/json"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    """`schema` or null."""
    if "$ref" in schema:
        return {"oneOf": [schema, {"type": "null"}]}
    return {**schema, "type": [schema["type"], "null"]}


def obj(properties: dict, description: str | None = None) -> dict:
    """An object with exactly these properties, all present."""
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }
    if description:
        schema["description"] = description
    return schema


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
URL = {"type": "string", "format": "uri"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
SLUG = {"type": "string", "pattern": SLUG_PATTERN, "maxLength": 160}

SCHEMAS = {
    "Text": obj(
        {"vi": STRING, "en": nullable(STRING)},
        "A text in Vietnamese and in English; `en` is null where no translation was written "
        "(fall back to `vi`).",
    ),
    "Named": obj({"slug": SLUG, "name": ref("Text")}, "A sector, category or commune."),
    "Image": obj(
        {
            "alt": ref("Text"),
            "width": {"type": "integer", "minimum": 1},
            "height": {"type": "integer", "minimum": 1},
            "original_url": URL,
            "sizes": array(
                obj(
                    {
                        "width": {"type": "integer", "minimum": 1},
                        "height": {"type": "integer", "minimum": 1},
                        "url": URL,
                    }
                )
            ),
        },
        "A photo: the original and WebP renditions, smallest first (never wider than the "
        "original).",
    ),
    "Ocop": obj(
        {
            "stars": {"type": "integer", "minimum": 1, "maximum": 5},
            "year": nullable(INTEGER),
            "expires_on": nullable(DATE),
        },
        "The product's OCOP rating; given only while the certificate is valid.",
    ),
    "Certification": obj(
        {
            "code": STRING,
            "name": ref("Text"),
            "verified": {
                "type": "boolean",
                "description": "True when alliance staff checked the certificate; false when "
                "the cooperative declared it.",
            },
        }
    ),
    "Product": obj(
        {
            "slug": SLUG,
            "name": ref("Text"),
            "description": ref("Text"),
            "category": ref("Named"),
            "sector": ref("Named"),
            "cooperative": obj(
                {"slug": SLUG, "name": ref("Text"), "locality": ref("Named")},
                "The cooperative that makes and sells the product.",
            ),
            "unit": obj({"code": STRING, "name": ref("Text")}, "The unit the price is for."),
            "pack_size": nullable(ref("Text")),
            "price_vnd": {
                "type": ["integer", "null"],
                "minimum": 1,
                "description": "Whole Vietnamese đồng per unit; null = price on request "
                "(“Liên hệ”).",
            },
            "min_order": {"type": "number", "exclusiveMinimum": 0},
            "ocop": nullable(ref("Ocop")),
            "certifications": array(ref("Certification")),
            "season_months": {
                "type": "array",
                "items": {"type": "integer", "minimum": 1, "maximum": 12},
                "description": "Months (1–12) in which the product is available.",
            },
            "images": {
                "type": "array",
                "items": ref("Image"),
                "description": "Photos in display order; the first is the cover.",
            },
            "url": {**URL, "description": "The product's page on the site."},
            "updated_at": DATETIME,
        }
    ),
    "Cooperative": obj(
        {
            "slug": SLUG,
            "name": ref("Text"),
            "legal_form": {"type": "string", "enum": [form.value for form in LegalForm]},
            "sector": ref("Named"),
            "locality": obj(
                {
                    "slug": SLUG,
                    "name": ref("Text"),
                    "district_2022": {
                        **nullable(ref("Text")),
                        "description": "The district before the 1/7/2025 reform abolished "
                        "districts.",
                    },
                },
                "The commune or ward (since 1/7/2025).",
            ),
            "address": ref("Text"),
            "founded_year": nullable(INTEGER),
            "member_count": nullable({"type": "integer", "minimum": 0}),
            "description": ref("Text"),
            "tax_code": {
                "type": ["string", "null"],
                "pattern": r"^\d{10}(-\d{3})?$",
                "description": "The registration number (mã số thuế), public registry data; "
                "null for a cooperative group or an HTX never issued one.",
            },
            "tax_code_is_demo": {
                "type": "boolean",
                "description": "True for the made-up codes of demonstration data.",
            },
            "contacts": obj(
                {
                    "phone": nullable(STRING),
                    "zalo": nullable(STRING),
                    "email": nullable(STRING),
                    "website": nullable(STRING),
                },
                "The cooperative's published contacts, as on its page.",
            ),
            "logo": nullable(ref("Image")),
            "product_count": {"type": "integer", "minimum": 0},
            "url": {**URL, "description": "The cooperative's page on the site."},
            "updated_at": DATETIME,
        }
    ),
    "Programme": obj(
        {
            "slug": SLUG,
            "title": ref("Text"),
            "organizer": ref("Text"),
            "start_date": DATE,
            "end_date": DATE,
            "registration_deadline": nullable(DATE),
            "venue": ref("Text"),
            "description": ref("Text"),
            "timing": {"type": "string", "enum": ["upcoming", "ongoing", "past"]},
            "is_demo_reconstruction": {
                "type": "boolean",
                "description": "True when the booths illustrate a real past event with "
                "made-up cooperatives.",
            },
            "booth_count": {"type": "integer", "minimum": 0},
            "url": {**URL, "description": "The programme's page on the site."},
            "updated_at": DATETIME,
        }
    ),
    "Booth": obj(
        {
            "number": {"type": "integer", "description": "Printed on the stand."},
            "zone": nullable(STRING),
            "cooperative": nullable(
                obj(
                    {
                        "slug": SLUG,
                        "name": ref("Text"),
                        "sector": ref("Named"),
                        "locality": ref("Named"),
                    }
                )
            ),
            "featured_products": {
                "type": "array",
                "items": SLUG,
                "description": "Slugs of the published products shown at the booth.",
            },
            "url": nullable(URL),
        },
        "A booth; a vacant one has no cooperative.",
    ),
    "Error": obj(
        {
            "error": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "message"],
                "properties": {
                    "code": {
                        "type": "string",
                        "description": "Stable, for programs: invalid_parameter, "
                        "invalid_cursor, not_found, method_not_allowed, rate_limited, …",
                    },
                    "message": {"type": "string", "description": "For people, in English."},
                    "parameter": {
                        "type": "string",
                        "description": "The query argument at fault, when there is one.",
                    },
                },
            }
        }
    ),
    "Index": obj(
        {
            "name": STRING,
            "version": STRING,
            "openapi_url": URL,
            "documentation_url": URL,
            "resources": obj({"products": URL, "cooperatives": URL, "programmes": URL}),
        }
    ),
}


def page_of(item: str) -> dict:
    return obj(
        {
            "items": array(ref(item)),
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` for the next page; null on the last page.",
            },
            "next_url": nullable(URL),
        }
    )


SCHEMAS["ProductPage"] = page_of("Product")
SCHEMAS["CooperativePage"] = page_of("Cooperative")
SCHEMAS["ProgrammePage"] = page_of("Programme")
SCHEMAS["ProgrammeDetail"] = {
    **obj(
        {
            **SCHEMAS["Programme"]["properties"],
            "booths": {
                "type": "array",
                "items": ref("Booth"),
                "description": "Every booth, by number.",
            },
        }
    ),
    "description": "A programme with its booths.",
}


def _query(name: str, schema: dict, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _slug_filter(name: str, what: str) -> dict:
    return _query(
        name,
        SLUG,
        f"Only those of this {what} (its slug). A well-formed slug that names nothing "
        "gives an empty list.",
    )


LIMIT = _query(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    f"Items per page, 1–{MAX_LIMIT}.",
)
CURSOR = _query(
    "cursor",
    {"type": "string", "minLength": 1, "maxLength": MAX_CURSOR_LENGTH},
    "`next_cursor` of the previous page, exactly as given. Anything else is a 400.",
)
SLUG_PATH = {
    "name": "slug",
    "in": "path",
    "required": True,
    "schema": SLUG,
}
PRODUCT_FILTERS = [
    _query(
        "q",
        {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_LENGTH, "pattern": r"\S"},
        "Words to search for, as on the site's search page (names of the product, its "
        "category, cooperative and commune); accents and case are ignored (“banh phu the” "
        "finds “Bánh phu thê”). With `q` the best matches come first. No control characters.",
    ),
    _slug_filter("sector", "sector"),
    _slug_filter("category", "category"),
    _slug_filter("locality", "commune or ward (where the cooperative is)"),
    _query(
        "ocop_min",
        {"type": "integer", "minimum": OCOP_STARS[0], "maximum": OCOP_STARS[1]},
        "Only products with a valid OCOP rating of at least this many stars.",
    ),
    _query(
        "certification",
        {"type": "string", "pattern": "^[a-z0-9_]{1,40}$"},
        "Only products holding this certification (its code, e.g. `vietgap`).",
    ),
    _query(
        "price_min",
        {"type": "integer", "minimum": 0, "maximum": MAX_PRICE},
        "Lowest price in VND; products priced on request are left out when set.",
    ),
    _query(
        "price_max",
        {"type": "integer", "minimum": 0, "maximum": MAX_PRICE},
        "Highest price in VND (not below `price_min`); products priced on request are left "
        "out when set.",
    ),
]
COOPERATIVE_FILTERS = [
    _slug_filter("sector", "sector"),
    _slug_filter("locality", "commune or ward"),
]

CACHE_HEADERS = {
    "ETag": {"schema": STRING, "required": True, "description": "Send as If-None-Match."},
    "Cache-Control": {"schema": STRING, "required": True},
    "Access-Control-Allow-Origin": {"schema": {"type": "string", "const": "*"}},
}


def _json(schema: str, description: str, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {JSON: {"schema": ref(schema)}}}
    if headers:
        response["headers"] = headers
    return response


def _error(description: str) -> dict:
    return _json("Error", description)


def _operation(
    operation_id: str, summary: str, schema: str, parameters: list, *, bad_request: bool
) -> dict:
    responses = {
        "200": _json(schema, "OK", CACHE_HEADERS),
        "304": {
            "description": "Not modified: the If-None-Match ETag is still current.",
            "headers": {"ETag": CACHE_HEADERS["ETag"]},
        },
    }
    if bad_request:
        responses["400"] = _error("A query argument is malformed or out of range.")
    responses["404"] = _error("No such published resource.")
    responses["429"] = _error("Too many requests from this address.")
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": parameters,
            "responses": responses,
        }
    }


def document(base_url: str = "/api/v1") -> dict:
    """The OpenAPI document; `base_url` is where the API is served."""
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "Chợ HTX API",
            "version": "1.0.0",
            "summary": "Public data of the Chợ HTX marketplace of Bắc Ninh's cooperatives.",
            "description": (
                "Read-only, public data only: published products of verified cooperatives, "
                "the cooperative directory and product-introduction programmes with their "
                "booths. No key is needed. Lists are paged with an opaque `cursor` "
                "(`next_cursor` of the previous page). Texts come in Vietnamese and English "
                "at once; money is whole VND; dates are ISO 8601. Errors answer "
                '`{"error": {"code", "message"}}` with messages in English. Responses may '
                "be cached for 60 seconds; send the ETag back as If-None-Match to get a 304. "
                "Each address may make 600 requests a minute."
            ),
        },
        "servers": [{"url": base_url}],
        "paths": {
            "/": {
                "get": {
                    "operationId": "index",
                    "summary": "Where the resources and the documentation are",
                    "responses": {
                        "200": _json("Index", "OK"),
                        "429": _error("Too many requests from this address."),
                    },
                }
            },
            "/products": _operation(
                "listProducts",
                "Published products, newest listed first (best matches first with `q`)",
                "ProductPage",
                [*PRODUCT_FILTERS, CURSOR, LIMIT],
                bad_request=True,
            ),
            "/products/{slug}": _operation(
                "getProduct", "One published product", "Product", [SLUG_PATH], bad_request=False
            ),
            "/cooperatives": _operation(
                "listCooperatives",
                "Verified cooperatives, by slug (alphabetical)",
                "CooperativePage",
                [*COOPERATIVE_FILTERS, CURSOR, LIMIT],
                bad_request=True,
            ),
            "/cooperatives/{slug}": _operation(
                "getCooperative",
                "One verified cooperative",
                "Cooperative",
                [SLUG_PATH],
                bad_request=False,
            ),
            "/programmes": _operation(
                "listProgrammes",
                "Public programmes (fairs), the latest start first",
                "ProgrammePage",
                [CURSOR, LIMIT],
                bad_request=True,
            ),
            "/programmes/{slug}": _operation(
                "getProgramme",
                "One public programme with its booths",
                "ProgrammeDetail",
                [SLUG_PATH],
                bad_request=False,
            ),
        },
        "components": {"schemas": SCHEMAS},
    }
