"""Typed registry errors: an HTTP answer that is not what the caller asked for, or no answer at all.

Every message is one line of the registry's own plain-text error (clawhub-api.md §1.4), bounded,
and never contains the bearer token.
"""

from __future__ import annotations

from dataclasses import dataclass

from skillscan.errors import RegistryError


@dataclass(frozen=True, slots=True)
class SlugMatch:
    """One publisher's skill behind an ambiguous slug (409 ``AMBIGUOUS_SKILL_SLUG``)."""

    owner: str
    slug: str
    ref: str = ""
    url: str = ""


class RegistryHTTPError(RegistryError):
    """The registry answered with a non-retryable error status."""

    def __init__(self, what: str, status: int, message: str) -> None:
        self.what = what
        self.status = status
        self.message = message
        super().__init__(f"{what}: HTTP {status}: {message}" if message else f"{what}: HTTP {status}")


class RegistryBadRequestError(RegistryHTTPError):
    """400: a parameter the registry refused (bad sort, bad hash, missing slug, …)."""


class RegistryAuthError(RegistryHTTPError):
    """401: missing or invalid token for an endpoint that needs one."""


class RegistryForbiddenError(RegistryHTTPError):
    """403: blocked as malicious, hidden by a moderator, or a role the token lacks."""


class RegistryNotFoundError(RegistryHTTPError):
    """404: no such skill, version or file."""


class RegistryGoneError(RegistryHTTPError):
    """410: removed by a moderator, or a soft-deleted (revoked) version."""


class RegistryPendingError(RegistryHTTPError):
    """423: held while the registry's own security review runs; ask again later."""


class AmbiguousSlugError(RegistryHTTPError):
    """409: several publishers own this slug; the caller must name the owner."""

    def __init__(self, what: str, slug: str, message: str, matches: tuple[SlugMatch, ...]) -> None:
        self.slug = slug
        self.matches = matches
        owners = ", ".join(m.owner for m in matches)
        detail = f"{message} (owners: {owners})" if owners else message
        super().__init__(what, 409, detail)


class RegistryUnavailableError(RegistryError):
    """No usable answer after every retry: rate-limited, 5xx, timeouts or connection failures."""

    def __init__(
        self,
        what: str,
        detail: str,
        *,
        status: int | None = None,
        attempts: int = 0,
        retry_after_s: float | None = None,
    ) -> None:
        self.what = what
        self.detail = detail
        self.status = status
        self.attempts = attempts
        self.retry_after_s = retry_after_s
        self.rate_limited = status == 429
        super().__init__(f"{what}: {detail} (after {attempts} attempt(s))")


class RegistryProtocolError(RegistryError):
    """The registry answered 200 with something that is not the documented shape."""


class ResponseTooLargeError(RegistryError):
    """A response body exceeded the byte bound the caller set; reading stopped at the bound."""

    def __init__(self, what: str, limit: int, received: int, declared: int | None = None) -> None:
        self.limit = limit
        self.received = received
        self.declared = declared
        size = f"declared {declared} bytes" if declared is not None else f"more than {received} bytes"
        super().__init__(f"{what}: response too large ({size}; limit {limit})")


_STATUS_ERRORS: dict[int, type[RegistryHTTPError]] = {
    400: RegistryBadRequestError,
    401: RegistryAuthError,
    403: RegistryForbiddenError,
    404: RegistryNotFoundError,
    410: RegistryGoneError,
    423: RegistryPendingError,
}


def error_for_status(what: str, status: int, message: str) -> RegistryHTTPError:
    return _STATUS_ERRORS.get(status, RegistryHTTPError)(what, status, message)
