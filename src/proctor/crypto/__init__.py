"""Cryptographic primitives below every stage: JOSE encodings (:mod:`proctor.crypto.jose`) and private
key files (:mod:`proctor.crypto.keyfiles`). Nothing here knows about agents, tasks or audit."""

from __future__ import annotations

__all__: list[str] = []
