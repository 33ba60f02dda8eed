"""The memo of :func:`proctor.flow.detect.scan_credentials` (short texts): the same answer as the
scan without it, a fresh list each call, and keyed on the detectors and prefilter in use."""

from __future__ import annotations

import pytest
from tests.unit.test_flow_labels import GITHUB, samples

from proctor.flow import detect
from proctor.flow.detect import scan_credentials

TEXTS = [
    "",
    "plain prose with no token at all",
    "DE89370400440532013000",
    f"token: {GITHUB}",
    f"two: {GITHUB} and again {GITHUB}",
    "eyJ" * 2000,  # long and crafted: still short enough to be remembered
    "x" * 5000,  # past the memo: scanned every time
]


@pytest.mark.parametrize("text", TEXTS + list(samples().values()))
def test_the_memo_answers_as_the_scan_does(text: str) -> None:
    expected = detect._scan(text, detect.MAX_SCAN_CHARS) if text else ([], True)
    assert scan_credentials(text) == expected
    assert scan_credentials(text) == expected  # remembered now
    assert scan_credentials(text, limit=10) == (detect._scan(text, 10) if text else ([], True))


def test_the_memo_hands_out_a_fresh_list() -> None:
    text = f"key {GITHUB}"
    first, _ = scan_credentials(text)
    assert first
    first.clear()
    again, _ = scan_credentials(text)
    assert again == [("GitHub Token", detect.fingerprint(GITHUB))]


def test_the_memo_is_keyed_on_the_prefilter(monkeypatch: pytest.MonkeyPatch) -> None:
    line = samples()["Basic Auth Credentials"]
    assert scan_credentials(line)[0]
    monkeypatch.setattr(detect, "_TRIGGERS", ())  # a prefilter that keeps nothing
    detect.detectors.cache_clear()
    try:
        assert scan_credentials(line) == ([], True)
    finally:
        detect.detectors.cache_clear()


def test_the_memo_keeps_no_text_in_clear() -> None:
    """A scanned argument or output may hold a secret and the memo outlives the task: it is
    keyed on a digest, and what it keeps are fingerprints."""
    text = f"deploy key {GITHUB} for the build"
    scan_credentials(text)
    for key, (found, _) in detect._MEMO.items():
        assert text not in [k for k in key if isinstance(k, str)]
        assert all(GITHUB not in part for hit in found for part in hit)
        assert isinstance(key[0], bytes)
        assert len(key[0]) == 20


def test_the_memo_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detect, "_MEMO_SIZE", 8)
    detect._MEMO.clear()
    for i in range(50):
        scan_credentials(f"text number {i}")
        assert len(detect._MEMO) <= 8
