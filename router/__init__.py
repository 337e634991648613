"""The strangler router: an ASGI proxy in front of the legacy monolith that diverts routes to extracted services.

The pure core decides and holds no I/O: `config` (strangler.yaml parsed into frozen values),
`matching` (method + path -> configured route), `flags` (runtime modes per route or group, as an
immutable snapshot) and `decision` (route + flag + caller -> which side serves the request).
The proxy, the flag store and its watcher are thin shells around them.

This package speaks HTTP only: it never imports `legacy_monolith` or `extracted`.
"""
