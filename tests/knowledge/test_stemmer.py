"""The analyzer's stemmer is Snowball's English one loaded alone (knowledge/text.py
`_stemmer`): the same stems as `snowballstemmer.stemmer("english")`, without importing
the package's other languages."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from netops_agent.knowledge.text import SYNONYMS_PATH

DATA = SYNONYMS_PATH.parent

# Words that exercise Snowball's special cases (exceptions, -ly, -ing, y -> i, doubles).
TRICKY = (
    "skies sky dying lying tying news innings outing canning herring earring proceed exceed "
    "succeed generously generate generic communism communication arsenal gently early only "
    "singly cried flies agreed feed bled hopping hoping filing fizzed bgp's neighbours flapping "
    "flapped connections connectivity routers routing reachability unreachable mismatched "
    "mtu ospf adjacencies interfaces duplex"
)

PROBE = """
import json, sys
from netops_agent.knowledge import text
words = json.loads(sys.stdin.read())
stem = text._stemmer()
alone = "snowballstemmer" not in sys.modules
ours = [stem.stemWord(w) for w in words]
import snowballstemmer
reference = snowballstemmer.stemmer("english")
print(json.dumps({"alone": alone, "kind": type(stem).__module__,
                  "ours": ours, "reference": [reference.stemWord(w) for w in words]}))
"""


def _vocabulary() -> list[str]:
    words: set[str] = set(TRICKY.split())
    for path in DATA.rglob("*.yaml"):
        words.update(re.findall(r"[a-z][a-z0-9'_-]*", path.read_text().lower()))
    return sorted(words)


def test_the_english_stemmer_alone_gives_snowballs_stems(tmp_path: Path) -> None:
    words = _vocabulary()
    assert len(words) > 1000  # the runbooks, synonyms, policy, detection rules and suites
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        input=json.dumps(words),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    data = json.loads(out.stdout)
    assert data["alone"]  # the package (all languages) was not imported for it
    assert data["kind"].startswith("netops_agent.knowledge.")
    assert data["ours"] == data["reference"]
    assert sum(a != w for a, w in zip(data["ours"], words, strict=True)) > 200  # it really stems
