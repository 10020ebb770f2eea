"""ntc-templates parsing with each compiled template kept for the life of the process.

`ntc_templates.parse.parse_output` builds a new `CliTable` per call: it matches the
command against every row of the template index and re-reads and recompiles the
TextFSM template (about 17 ms a call). Here the index lookup and the compiled
`TextFSM` are done once per (platform, command) and reused; each parse resets the
state machine and runs the same template over the text, so the rows are those
`parse_output` returns (tests/tools/test_ntc_cache.py proves it over the golden
outputs). Templates that the index chains (`a:b`, merged by key) go through
`parse_output` itself. The index lookup scans only the rows of the asked platform, and
the rows of the last texts parsed are kept (the same text gives the same rows:
tests/tools/test_ntc_text_cache.py). Each template is run by `_FastFSM`, TextFSM with a
cheaper search for the rule that matches a line (tests/tools/test_ntc_fast.py).
"""

from __future__ import annotations

import os
import re
import threading
from functools import cache, lru_cache
from typing import Any

import textfsm
from ntc_templates.parse import ParsingException, _get_template_dir, parse_output
from textfsm import clitable

# A named group of a rule (a template Value, or a group nested in one): made plain in the
# combined pattern, where names must be unique.
_NAMED = re.compile(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>")
# What makes a rule's meaning depend on its groups' names or numbers (backreferences,
# conditionals) or could fool the plain rewrite above (an escaped parenthesis before
# `?P<`): a run of rules holding one is always tried rule by rule.
_UNSAFE = re.compile(r"\\[0-9]|\(\?P=|\(\?\(|\\\(\?P<")
_UNBUILT = object()


def _combined(rules: list[Any]) -> re.Pattern[str] | None:
    """One pattern for a run of rules, `(?P<r0>rule0)|(?P<r1>rule1)|...`. Matched at the
    line's start, the regex engine tries the alternatives in order and takes the first one
    that matches, so the group that matched names the first rule whose own regex matches:
    the rule TextFSM's loop stops at. Only the rules' named groups become non-capturing (a
    group matches the same text whether it captures or not); the rule's own regex is then
    run to read its values. None when a rule cannot be combined safely."""
    if not rules:
        return None
    parts = []
    for i, rule in enumerate(rules):
        if _UNSAFE.search(rule.regex):
            return None
        parts.append(f"(?P<r{i}>{_NAMED.sub('(?:', rule.regex)})")
    try:
        return re.compile("|".join(parts))
    except (re.error, RecursionError, OverflowError):  # e.g. a global inline flag mid-pattern
        return None


class _FastFSM(textfsm.TextFSM):
    """`textfsm.TextFSM` that finds the first rule of a state matching a line with one
    combined regex (tried in C) instead of trying the rules one by one in Python, finds a
    Value by name in a dict, and calls a Value's option hooks only for a Value that has
    options (the hooks of a Value without options do nothing). The option hooks, line and
    record operations and state changes are TextFSM's own code, in TextFSM's order, so the
    rows are the same: tests/tools/test_ntc_fast.py compares them with
    `ntc_templates.parse.parse_output`. It overrides private methods of textfsm 2.1.0's
    parser.py (_Parse, _GetValue, _CheckLine, _ClearRecord, _ClearAllRecord,
    _AppendRecord), so it runs only with the releases in VERIFIED_TEXTFSM.

    Compiling a combined pattern costs about as much as a few hundred lines tried rule by
    rule, so a run of rules (a state, or the rules after a `Continue`) gets one only once
    `HOT` lines went through it in this process; until then its rules are tried in turn,
    exactly as TextFSM does."""

    HOT = 256

    def __init__(self, template: Any) -> None:
        # (id of a state's rule list, index of its first rule to try) -> lines seen / pattern
        self._seen: dict[tuple[int, int], int] = {}
        self._finders: dict[tuple[int, int], re.Pattern[str] | None] = {}  # None: rule by rule
        super().__init__(template)

    def _Parse(self, template: Any) -> None:
        super()._Parse(template)
        self._by_name = {}
        for value in self.values:
            self._by_name.setdefault(value.name, value)  # TextFSM refuses duplicate names
        self._bare = [v for v in self.values if not v.options]
        self._hooked = [v for v in self.values if v.options]

    def _GetValue(self, name: str) -> Any:
        return self._by_name.get(name)

    def _first(self, rules: list[Any], start: int, line: str) -> tuple[int, re.Match[str] | None]:
        """The index of the first of `rules[start:]` whose regex matches the line, and its match."""
        key = (id(rules), start)
        finder = self._finders.get(key, _UNBUILT)
        if finder is _UNBUILT:
            finder = None
            seen = self._seen[key] = self._seen.get(key, 0) + 1
            if seen >= self.HOT:
                finder = self._finders[key] = _combined(rules[start:])
        if finder is not None:
            m = finder.match(line)
            if m is None:
                return -1, None
            j = start + int(m.lastgroup[1:])  # type: ignore[index]
            return j, rules[j].regex_obj.regex.match(line)
        for j in range(start, len(rules)):
            matched = rules[j].regex_obj.regex.match(line)
            if matched:
                return j, matched
        return -1, None

    def _CheckLine(self, line: str) -> None:
        """TextFSM's `_CheckLine`: the first rule that matches acts; after a `Continue` rule
        the rules below it are tried on the same line."""
        rules = self._cur_state
        start = 0
        while True:
            j, matched = self._first(rules, start, line)
            if matched is None:
                return
            rule = rules[j]
            for name, text in matched.groupdict().items():  # TextFSM's _AssignVar
                value = self._by_name.get(name)
                if value is not None:
                    if value.options:
                        value.AssignVar(text)
                    else:
                        value.value = text
            if self._Operations(rule, line):
                if rule.new_state:
                    if rule.new_state not in ("End", "EOF"):
                        self._cur_state = self.states[rule.new_state]
                    self._cur_state_name = rule.new_state
                return
            start = j + 1

    def _ClearRecord(self) -> None:
        for value in self._bare:
            value.value = None
        for value in self._hooked:
            value.ClearVar()

    def _ClearAllRecord(self) -> None:
        for value in self._bare:
            value.value = None
        for value in self._hooked:
            value.ClearAllVar()

    def _AppendRecord(self) -> None:
        """TextFSM's `_AppendRecord`: the current record joins the result if some value is set."""
        if not self.values:
            return
        record = []
        for value in self.values:
            if value.options:
                try:
                    value.OnSaveRecord()
                except textfsm.SkipRecord:
                    self._ClearRecord()
                    return
                except textfsm.SkipValue:
                    continue
            record.append(value.value)
        if len(record) == record.count(None) + record.count([]):
            return
        self._result.append(["" if v is None else v for v in record])
        self._ClearRecord()


# `_FastFSM` overrides private methods of TextFSM; it is used only with the textfsm releases
# whose parser.py was read and checked against it (rows compared with parse_output); any
# other release runs its own `textfsm.TextFSM` (tests/tools/test_ntc_fast.py).
VERIFIED_TEXTFSM = frozenset({"2.1.0"})


def _fsm_class(version: str | None) -> type[textfsm.TextFSM]:
    return _FastFSM if version in VERIFIED_TEXTFSM else textfsm.TextFSM


class _Compiled:
    """One compiled template and the lock that serialises its (stateful) FSM."""

    __slots__ = ("fsm", "header", "lists", "lock")

    def __init__(self, path: str) -> None:
        with open(path) as fh:
            self.fsm = _fsm_class(getattr(textfsm, "__version__", None))(fh)
        self.header = [h.lower() for h in self.fsm.header]
        # The columns of `List` Values (lists; every other column is a str), when every Value
        # is a column (no option hides one); else None and each value is looked at.
        values = self.fsm.values
        self.lists: tuple[int, ...] | None = (
            tuple(i for i, v in enumerate(values) if "List" in v.OptionNames())
            if len(values) == len(self.header)
            else None
        )
        self.lock = threading.Lock()


@cache
def _index(template_dir: str) -> tuple[tuple[str, ...], list[dict[str, str]]]:
    """The template index's header and rows (plain dicts: cheaper to scan than `TextTable`
    rows), read once per directory (not compiled: see _lookup). Read as
    `TextTable.CsvToTable` reads it (the header is the first line with anything but a
    comment; a line starting with `#` is skipped; fields are split on commas and stripped;
    a line with another number of fields is dropped) without building a `Row` object per
    line: tests/tools/test_ntc_cache.py compares the two."""
    with open(os.path.join(template_dir, "index")) as fh:
        header_line = ""
        while not header_line:
            line = fh.readline()
            if not line:
                break
            header_line = line.split("#")[0].strip()
        header = tuple(h.strip() for h in header_line.split(","))
        if "Template" not in header:
            raise ParsingException(f"ntc-templates index in {template_dir} has no 'Template' column")
        rows = []
        for line in fh:
            if line.startswith("#"):
                continue
            fields = [f.strip() for f in line.split(",")]
            if len(fields) == len(header):
                rows.append(dict(zip(header, fields, strict=True)))
    return header, rows


# A word of an index Command pattern that is plain text with at most one `[[..]]` completion
# (`int[[erfaces]]`): it matches exactly the words `int`, `inte`, ... `interfaces`.
_PLAIN_WORD = re.compile(r"([A-Za-z0-9_-]+)(?:\[\[([A-Za-z0-9_-]+)\]\])?")


def _plain_verdict(raw: str, command: str) -> bool | None:
    """Whether the index row's Command pattern `raw` matches `command` (`re.match`: from the
    start, anything may follow), decided without compiling it when its words are plain: a
    plain word that a single space follows must be the command's word at the same place,
    whole; a plain last word must start the rest of the command. False as soon as a plain
    word fails; None (`re.match` decides) at the first word with regex syntax. Most rows are
    decided here, so their patterns are never compiled (about 0.5 ms each)."""
    words = command.split(" ")
    pwords = raw.split(" ")
    last = len(pwords) - 1
    for i, pword in enumerate(pwords):
        plain = _PLAIN_WORD.fullmatch(pword)
        if plain is None:
            return None
        stem, completion = plain.group(1), plain.group(2) or ""
        if i == last:  # `stem(c(o(m)?)?)?` then anything
            return i < len(words) and " ".join(words[i:]).startswith(stem)
        if i >= len(words) - 1:
            return False  # the pattern wants a space after a word the command ends with
        word = words[i]
        if not (word.startswith(stem) and completion.startswith(word[len(stem) :])):
            return False
    return None  # not reached: the last word returns


def _surely_fails(raw: str, command: str) -> bool:
    """True only when the row's Command pattern `raw` cannot match `command` (_plain_verdict)."""
    return _plain_verdict(raw, command) is False


@cache
def _platform_rows(template_dir: str, platform: str) -> tuple[tuple[str, ...], list[dict[str, str]]]:
    """The index rows whose Platform pattern matches `platform`, in index order: a lookup
    scans only these (every key of a row must match, so a row of another platform can
    never be the answer)."""
    header, rows = _index(template_dir)
    if "Platform" not in header:
        return header, rows
    expand = clitable.CliTable(None, template_dir)._PreParse
    kept = []
    for row in rows:
        pattern = expand("Platform", row["Platform"])
        # A plain pattern (letters, digits, `_`: 54 of the index's 57) matches what it starts;
        # only the others are compiled (~0.1 ms each).
        plain = _PLAIN_PLATFORM.fullmatch(pattern)
        if not pattern or (platform.startswith(pattern) if plain else re.match(pattern, platform)):
            kept.append(row)
    return header, kept


_PLAIN_PLATFORM = re.compile(r"[A-Za-z0-9_]+")


def _lookup(attrs: dict[str, str], template_dir: str) -> str | None:
    """The index row's Template for these attributes, with `IndexTable.GetRowMatch`'s rule
    (the first row whose every non-empty regex present in the attributes matches), but
    expanding and compiling a row's regexes only when the scan reaches it and the row can
    match: `CliTable` compiles all ~1,000 rows (0.4-0.8 s) before its first lookup. Only
    the rows of the attributes' platform are scanned (_platform_rows)."""
    expand = clitable.CliTable(None, template_dir)._PreParse  # the index's [[..]] completion
    if "Platform" in attrs:
        header, rows = _platform_rows(template_dir, attrs["Platform"])
    else:
        header, rows = _index(template_dir)
    keys = [k for k in attrs if k in header and k not in ("Platform", "Command")]
    if "Command" in attrs and "Command" in header:
        keys.append("Command")  # every key must match, so the order of the checks is free
    for row in rows:
        for key in keys:
            if key == "Command":
                verdict = _plain_verdict(row[key], attrs[key])
                if verdict is False:
                    break
                if verdict:
                    continue
            pattern = expand(key, row[key])
            if pattern and not re.match(pattern, attrs[key]):
                break
        else:
            return row["Template"]
    return None


@cache
def _template(platform: str, command: str, template_dir: str) -> _Compiled | None:
    """The compiled template for a command, or None when the index chains several."""
    attrs = {"Command": command, "Platform": platform}
    names = _lookup(attrs, template_dir)
    if not names:
        raise ParsingException(
            f'Unable to parse command "{command}" on platform {platform} - '
            f'No template found for attributes: "{attrs}"'
        )
    if ":" in names:
        return None
    return _Compiled(os.path.join(template_dir, names))


def _to_str(value: Any) -> Any:
    # What texttable.Row does to each value parse_output returns.
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return str(value)


def parse(platform: str, command: str, text: str) -> list[dict[str, Any]]:
    """Rows of `command`'s output as ntc-templates parses it (lower-case keys).

    The rows of the last texts parsed are kept (a pure function of the template and the
    text: a device that did not change answers the same text to the next read) and handed
    out as fresh copies, so a caller that edits its rows never edits another's."""
    rows, lists = _parsed(platform, command, text, _template_dir(os.environ.get("NTC_TEMPLATES_DIR")))
    if not lists:
        return [dict(row) for row in rows]
    out = []
    for row in rows:
        copy = dict(row)
        for key in lists:
            copy[key] = list(copy[key])
        out.append(copy)
    return out


@cache
def _template_dir(setting: str | None) -> str:
    """ntc-templates' directory for this value of $NTC_TEMPLATES_DIR (its own rule; looked
    up once per value rather than with a path join and a stat on every parse)."""
    return _get_template_dir()


@lru_cache(maxsize=256)
def _parsed(
    platform: str, command: str, text: str, template_dir: str
) -> tuple[tuple[dict[str, Any], ...], tuple[str, ...]]:
    """The rows, and the keys whose values are lists (a TextFSM `List` value)."""
    compiled = _template(platform, command, template_dir)
    if compiled is None:
        rows = tuple(parse_output(platform=platform, command=command, data=text))
    else:
        with compiled.lock:
            compiled.fsm.Reset()
            records = compiled.fsm.ParseText(text)
        header, lists = compiled.header, compiled.lists
        if lists is not None:  # str columns as they are, list columns as lists of str
            for rec in records:
                for i in lists:
                    rec[i] = [str(v) for v in rec[i]]
            rows = tuple(dict(zip(header, rec, strict=True)) for rec in records)
            return rows, tuple(sorted(header[i] for i in lists)) if rows else ()
        rows = tuple(dict(zip(header, map(_to_str, rec), strict=True)) for rec in records)
    keys = {k for row in rows for k, v in row.items() if isinstance(v, list)}
    return rows, tuple(sorted(keys))
