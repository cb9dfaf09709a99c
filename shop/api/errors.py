"""Errors of the JSON API: every failure under /api/v1 answers `{"error": {...}}`.

Messages are in English only: the API's readers are programmers of partner systems, and one
language keeps the messages stable to match on; `code` is what programs should test.
"""

from werkzeug.exceptions import HTTPException


class ApiError(HTTPException):
    """An error answered as JSON: an HTTP status, a stable code and a message for people."""

    def __init__(self, status: int, code: str, message: str, parameter: str | None = None):
        super().__init__(description=message)
        self.code = status
        self.error_code = code
        self.message = message
        self.parameter = parameter

    def payload(self) -> dict:
        error = {"code": self.error_code, "message": self.message}
        if self.parameter is not None:
            error["parameter"] = self.parameter
        return {"error": error}


def bad_parameter(parameter: str, message: str) -> ApiError:
    return ApiError(400, "invalid_parameter", message, parameter)


#: Codes and messages of the HTTP errors the API answers without a more specific reason.
GENERIC = {
    304: ("not_modified", "Not modified."),
    400: ("bad_request", "The request is not valid."),
    404: ("not_found", "Nothing is published at this address."),
    405: ("method_not_allowed", "The API is read-only: use GET."),
    429: ("rate_limited", "Too many requests from this address; wait a minute and retry."),
    500: ("server_error", "Something went wrong on our side; please retry later."),
}


def from_http_error(error: HTTPException) -> ApiError:
    """The JSON form of a werkzeug HTTP error (404, 405, 429, …)."""
    status = error.code or 500
    code, message = GENERIC.get(status, ("http_error", error.description or "Request failed."))
    return ApiError(status, code, message)
