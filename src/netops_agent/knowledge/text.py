"""Text analysis for runbook retrieval: NOC shorthand in, comparable terms out.

The same analyzer reads runbooks (when the index is fitted) and queries (every
incident), so a runbook that says "neighbour" and a ticket that says "nbr" meet on
one term. Steps: syslog mnemonics and multi-word phrases from the synonyms file are
rewritten, the text is split into tokens, tokens are mapped (shorthand words and
patterns such as `lf3` -> leaf, `Gi0/1` -> interface), stop words are dropped, words
are stemmed (Snowball), and unigrams plus adjacent bigrams are emitted.

The stop-word list is our own: scikit-learn's English list removes `down`, `up`,
`not`, `no`, `off`, `full` and `never`, which carry the meaning of network text
("link down", "not full"), so those are kept.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from netops_agent import yamlio
from netops_agent.errors import InputFileError

SYNONYMS_PATH = Path(__file__).resolve().parent.parent / "data" / "synonyms.yaml"
SYNONYMS_ENV = "NETOPS_SYNONYMS"
ANALYZER_VERSION = "3"  # bump when the analysis changes, so stored indexes are rebuilt

# Function words with no meaning for a fault. Deliberately absent: negations and state
# words (down up not no off on out full half never none nothing without over under
# above below both all every one only same other far near).
_STOP_TEXT = """
    a an the and or but nor so yet if then than that this these those there here
    is are was were be been being am do does did doing done have has had having
    i me my we our us you your he him his she her it its they them their
    what which who whom whose when where why how
    to of in at by for from with into onto upon about against between through during
    before after since until while as per via
    can could would should shall will may might must
    just also too very really quite again still even some any each such own
    please pls hi hello thanks thx team anyone someone somebody something seems seem
    looks look like see seeing seen saw get gets got getting say says said tell
    think know let lets okay ok yes yeah maybe
    today tonight yesterday morning evening night now currently minutes minute min mins
    hours hour ago last first keep keeps kept
    alert alerts incident incidents origin likely most utc shortly
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
_TOKEN = re.compile(r"[a-z0-9][a-z0-9_/.%:+-]*[a-z0-9%]|[a-z0-9]")
_MNEMONIC = re.compile(r"%?\b([a-z][a-z0-9_]*-[0-7]-[a-z][a-z0-9_]*)\b")


@dataclass(frozen=True)
class Synonyms:
    phrases: dict[str, str]
    words: dict[str, str]
    patterns: list[tuple[re.Pattern[str], str]]
    mnemonics: dict[str, str]
    digest: str


def _section(raw: dict, name: str, path: Path) -> dict[str, str]:
    sec = raw.get(name) or {}
    if not isinstance(sec, dict) or not all(isinstance(v, str) for v in sec.values()):
        raise InputFileError(
            str(path), f"'{name}' must map words to words", where=name, fix="see data/synonyms.yaml"
        )
    return {str(k).lower(): v.lower() for k, v in sec.items()}


def _read(path: Path) -> dict[str, dict[str, str]]:
    try:
        raw = yamlio.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise InputFileError(
            str(path), "synonyms file not found", fix=f"fix or unset ${SYNONYMS_ENV}"
        ) from None
    except yamlio.YAMLError as exc:
        raise InputFileError(str(path), f"not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise InputFileError(str(path), "expected a mapping with phrases/words/patterns/mnemonics")
    unknown = set(raw) - {"version", "phrases", "words", "patterns", "mnemonics"}
    if unknown:
        raise InputFileError(
            str(path),
            f"unknown key {sorted(unknown)[0]!r}",
            fix="use phrases, words, patterns or mnemonics",
        )
    return {name: _section(raw, name, path) for name in ("phrases", "words", "patterns", "mnemonics")}


def load_synonyms(extra: Path | None = None) -> Synonyms:
    """The shipped synonyms, extended by `extra` (or $NETOPS_SYNONYMS) key by key."""
    merged = _read(SYNONYMS_PATH)
    extra = extra or (Path(os.environ[SYNONYMS_ENV]) if os.environ.get(SYNONYMS_ENV) else None)
    if extra is not None:
        for name, entries in _read(extra).items():
            merged[name].update(entries)
    patterns = []
    for rx, repl in merged["patterns"].items():
        try:
            patterns.append((re.compile(rx), repl))
        except re.error as exc:
            raise InputFileError(
                str(extra or SYNONYMS_PATH), f"bad pattern {rx!r}: {exc}", where="patterns"
            ) from None
    digest = hashlib.sha256(repr(sorted((k, sorted(v.items())) for k, v in merged.items())).encode())
    return Synonyms(
        merged["phrases"],
        merged["words"],
        patterns,
        {k.lstrip("%"): v for k, v in merged["mnemonics"].items()},
        digest.hexdigest()[:16],
    )


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    """Snowball's English stemmer, as `snowballstemmer.stemmer("english")` returns it.

    The `snowballstemmer` package imports all of its 35 languages when it loads (~20 ms of
    every run's start). Unless that package (or PyStemmer, which it would prefer) is
    already there, its English module is loaded alone, from the same files, under a
    private package name: the same code, the same stems (tests/knowledge/test_stemmer.py).
    """
    import importlib.util
    import sys

    if "snowballstemmer" in sys.modules or importlib.util.find_spec("Stemmer") is not None:
        import snowballstemmer

        return snowballstemmer.stemmer("english")
    return _english_module().EnglishStemmer()


SNOWBALL_ALONE = "netops_agent.knowledge._snowball_english"


def _english_module():  # type: ignore[no-untyped-def]
    """snowballstemmer's `english_stemmer` module (with its `basestemmer` and `among`) run
    under a package of our own whose path is snowballstemmer's: its package file is not run."""
    import importlib
    import importlib.util
    import sys
    import types

    if SNOWBALL_ALONE not in sys.modules:
        spec = importlib.util.find_spec("snowballstemmer")
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError("snowballstemmer")
        package = types.ModuleType(SNOWBALL_ALONE, "snowballstemmer's English stemmer alone")
        package.__path__ = list(spec.submodule_search_locations)
        package.__package__ = SNOWBALL_ALONE
        sys.modules[SNOWBALL_ALONE] = package
    return importlib.import_module(SNOWBALL_ALONE + ".english_stemmer")


def make_analyzer(syn: Synonyms) -> Callable[[str], list[str]]:
    """A function from text to terms (stemmed unigrams and bigrams), for fit and query."""
    phrase_rx = (
        re.compile(
            r"(?<![a-z0-9])("
            + "|".join(re.escape(p) for p in sorted(syn.phrases, key=len, reverse=True))
            + r")(?![a-z0-9])"
        )
        if syn.phrases
        else None
    )
    stem = _stemmer().stemWord
    stems: dict[str, str] = {}

    def mnemonic(m: re.Match[str]) -> str:
        known = syn.mnemonics.get(m.group(1))
        return f" {known} " if known else " " + m.group(1).replace("-", " ").replace("_", " ") + " "

    def words(tok: str) -> list[str]:
        if tok in syn.words:
            out = syn.words[tok].split()
        else:
            out = next((rx.sub(repl, tok).split() for rx, repl in syn.patterns if rx.fullmatch(tok)), [tok])
        res: list[str] = []
        for w in out:
            parts = [p for p in re.split(r"[^a-z]+", w) if p]
            if parts == [w]:
                res.append(w)
            else:  # a compound (err-disabled, remote-as, Gi0/1 left over): map its parts once
                res.extend(x for p in parts for x in syn.words.get(p, p).split())
        return res

    def analyze(text: str) -> list[str]:
        text = _MNEMONIC.sub(mnemonic, text.lower())
        if phrase_rx is not None:
            text = phrase_rx.sub(lambda m: f" {syn.phrases[m.group(1)]} ", text)
        kept: list[str] = []
        for tok in _TOKEN.findall(text):
            for w in words(tok):
                if len(w) < 2 or w in STOP_WORDS:
                    continue
                s = stems.get(w)
                if s is None:
                    s = stems[w] = stem(w)
                kept.append(s)
        return kept + [f"{a} {b}" for a, b in itertools.pairwise(kept)]

    return analyze


@lru_cache(maxsize=8)
def analyzer(extra: str | None = None) -> tuple[Callable[[str], list[str]], str]:
    """The analyzer for the current synonyms and a fingerprint of it (cached)."""
    syn = load_synonyms(Path(extra) if extra else None)
    return make_analyzer(syn), f"{ANALYZER_VERSION}-{syn.digest}"


def current_analyzer() -> tuple[Callable[[str], list[str]], str]:
    return analyzer(os.environ.get(SYNONYMS_ENV) or None)
