"""One side's response as the diff engine sees it, and how its content type is read.

The router captures each side into an `Exchange` (status, headers as received, body up to the capture
cap); the request is the same for both, so it is not part of it. Content types are compared by
meaning, not spelling: `application/json` and `Application/JSON; charset=UTF-8` are the same, because
JSON without a charset is UTF-8 (RFC 8259).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Exchange:
    """A response: `headers` are (lower-cased name, value) pairs as received, repeated names kept.

    `content_type` is taken from the headers when not given.
    """

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    content_type: str | None = None

    def __post_init__(self) -> None:
        if type(self.headers) is not tuple:
            object.__setattr__(self, "headers", tuple((str(n), str(v)) for n, v in self.headers))
        if self.content_type is None:
            for name, value in self.headers:
                if name.lower() == "content-type":
                    object.__setattr__(self, "content_type", value)
                    break


def media_type(content_type: str | None) -> str:
    """`application/json; charset=utf-8` -> `application/json` (lower case); "" for None."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def is_json(content_type: str | None) -> bool:
    """Whether a content type announces JSON: application/json or any `+json` type."""
    kind = media_type(content_type)
    return kind == "application/json" or kind.endswith("+json")


def normalise_content_type(value: str) -> str:
    """A content type written one way: media type and parameter names lower case, parameters sorted,
    the charset lower case and, for JSON, `charset=utf-8` when it is left out."""
    kind, _, rest = value.partition(";")
    kind = kind.strip().lower()
    params: dict[str, str] = {}
    for param in rest.split(";"):
        name, eq, val = param.partition("=")
        name = name.strip().lower()
        if not name or not eq:
            continue
        val = val.strip()
        if len(val) >= 2 and val[0] == val[-1] == '"':
            val = val[1:-1]
        params[name] = val.lower() if name == "charset" else val
    if "charset" not in params and (kind == "application/json" or kind.endswith("+json")):
        params["charset"] = "utf-8"
    return kind + "".join(f"; {k}={v}" for k, v in sorted(params.items()))
