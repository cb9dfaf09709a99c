"""Security headers of every response: a Content-Security-Policy with a per-request nonce,
nosniff, a referrer policy, and HSTS in production.

Choices:
- The policy goes on HTML responses only; a view that set its own (the sandboxed policy of
  /media files) or its own Referrer-Policy (`no-referrer` on private inquiry links and
  password-reset pages) keeps it.
- Inline `<script>` elements carry `nonce="{{ csp_nonce() }}"`; the nonce is new for every
  request, so pages holding one must never be cached whole and served again.
- Styles come from site.css only: no template has a `style=` attribute or a `<style>` element,
  and the scripts change styles through the CSSOM (`element.style.x = …`), which CSP allows.
- `img-src` allows `data:` and `blob:`: the photo uploader previews a picked file through an
  object URL when the browser cannot decode it otherwise.
- HSTS is sent by the production configuration on every response, whatever the scheme the app
  sees: behind a proxy the app only knows the scheme when SHOP_TRUSTED_PROXIES is set, browsers
  ignore the header on plain HTTP (RFC 6797 §8.1), and production cookies are Secure-only, so a
  production site is HTTPS anyway.
"""

import secrets

from flask import Flask, Response, current_app, g


def csp_nonce() -> str:
    """Return this request's script nonce, made on first use."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def content_security_policy(nonce: str) -> str:
    """Return the Content-Security-Policy of an HTML page whose inline scripts carry `nonce`."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


def set_headers(response: Response) -> Response:
    """Add the security headers a view did not set itself."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
        headers.setdefault("X-Frame-Options", "DENY")
    max_age = current_app.config.get("HSTS_MAX_AGE")
    if max_age:
        headers.setdefault("Strict-Transport-Security", f"max-age={max_age}; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    """Offer `csp_nonce()` to templates and add the headers to every response."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(set_headers)
