"""Persisted queries: documents known by their sha256, so clients send the hash alone.

- Automatic (Apollo APQ): any client registers a document by sending it once
  with its hash (`store.AutomaticStore`: Redis, bounded LRU with a TTL; the
  database without Redis).
- Trusted: documents a named client (partner, app) registered from a manifest
  (`registry`); in allowlist mode only these run.

Nothing here knows GraphQL: documents are text, checked by whoever loads them.
"""

import hashlib


def document_hash(text: str) -> str:
    """The sha256 hex of a document exactly as sent (Apollo hashes the text it sends)."""
    return hashlib.sha256(text.encode()).hexdigest()
