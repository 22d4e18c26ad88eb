"""A command line as a shell would read it, without a shell: words, variables, pipes, set-up lines.

Nothing here runs anything. The lexer knows the few shell forms runbooks use (quotes, `$VAR`,
`${VAR}`, `$(command)` as a whole value, pipes, `export VAR=...`, a trailing `; echo`,
`2>/dev/null`) and the placeholder conventions people write (`<pod name>`, `{{ $labels.x }}`).
Any other shell construct (`;`, `&&`, redirections, here-documents, `$((...))`, `${VAR:-x}`)
makes the line manual with the reason, so no string ever needs a shell to mean what it says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .operation import Manual, Refused

MAX_COMMAND = 1000
MAX_DEPTH = 2  # $( $( ... ) ): deeper nesting is not what runbooks hold
# `<pod name from previous step>`, `<my-pvc>`: a letter right after '<', no shell operators inside.
HOLE = re.compile(r"<([A-Za-z][A-Za-z0-9 _./:,'-]{0,80})>")
# `{{ $labels.namespace }}` / `{{ .Labels.pod }}`: an alert's label in an Alertmanager template.
ALERT_LABEL = re.compile(r"\{\{\s*\$?\.?(?:[Ll]abels|CommonLabels)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACES = re.compile(r"\{[^{}\s]*,[^{}\s]*\}")


@dataclass(frozen=True)
class Part:
    """A piece of a word: literal text, a `$VAR` reference, or a `$(command)` substitution."""

    kind: str  # "text" | "var" | "subst"
    value: str  # the text, or the variable's name
    quoted: str = ""  # "", "'" or '"': single-quoted text is never expanded by a shell
    line: Line | None = None  # the substituted command line


Word = tuple[Part, ...]


@dataclass
class Line:
    """One logical command line: assignments (a set-up line) and/or a pipeline of commands."""

    assignments: list[tuple[str, Word]] = field(default_factory=list)
    commands: list[list[Word]] = field(default_factory=list)  # stage -> words
    exported: bool = False


def plain(word: Word) -> str | None:
    """The word's text when it has no variable or substitution in it."""
    return "".join(p.value for p in word) if all(p.kind == "text" for p in word) else None


def _control(text: str) -> None:
    if len(text) > MAX_COMMAND:
        raise Refused(f"the command is {len(text)} characters; the limit is {MAX_COMMAND} (over-long input)")
    if any(ord(c) < 32 and c != "\t" or ord(c) == 127 for c in text):
        # Newlines and NUL smuggle a second command or cut a string short in C-based tools.
        raise Refused("the command contains control characters (newline, NUL); one step is one command line")
    if not text.isascii():
        # Look-alike characters (fullwidth '－－', Cyrillic 'а') dodge flag and name checks.
        raise Refused("the command contains non-ASCII characters (possible look-alike letters or dashes)")


_OPERATORS = {
    ";": "a command separator (';')", "&&": "an && operator", "||": "an || operator",
    "&": "a background operator ('&')", ">": "a redirection ('>')", ">>": "a redirection ('>>')",
    "<": "a redirection ('<')", "(": "a subshell ('(')", ")": "a subshell (')')",
}


class _Lexer:
    def __init__(self, text: str, depth: int = 0):
        self.text = text
        self.i = 0
        self.depth = depth

    def peek(self, n: int = 1) -> str:
        return self.text[self.i:self.i + n]

    # -- words -----------------------------------------------------------------------------------
    def line(self, stop: str = "") -> Line:
        """Stages separated by '|'; ends at the end of the text (or at `stop`, for $( ... ))."""
        stages: list[list[Word]] = [[]]
        while True:
            self._blanks()
            if self.i >= len(self.text) or (stop and self.peek() == stop):
                break
            c = self.peek()
            if c == "#" :
                break  # a comment: the rest of the line is prose
            if c == "|" and self.peek(2) != "||":
                self.i += 1
                if not stages[-1]:
                    raise Manual("has a pipe ('|') with no command before it")
                stages.append([])
                continue
            if self._harmless_tail(stages):
                continue
            op = next((o for o in (";", "&&", "||", ">>", "&", ">", "<", "(", ")")
                       if self.text.startswith(o, self.i)), None)
            if op == "<" and HOLE.match(self.text, self.i):
                op = None
            if op is not None:
                if op == "<" and self.peek(2) == "<<":
                    raise Manual("feeds a here-document (<<) to the command; the executor runs no shell")
                raise Manual(f"uses {_OPERATORS[op]}; only one kubectl read, optionally piped into read-only "
                             "filters, runs as a typed operation")
            stages[-1].append(self._word(stop))
        if not stages[-1] and len(stages) > 1:
            raise Manual("ends with a pipe ('|') into nothing")
        return self._split_assignments([s for s in stages if s])

    def _harmless_tail(self, stages: list[list[Word]]) -> bool:
        """`2>/dev/null` (errors hidden) and a final `; echo` (a newline) change nothing we show."""
        rest = self.text[self.i:]
        m = re.match(r"2>\s*/dev/null(?=\s|$|\|)|2>&1(?=\s|$|\|)", rest)
        if m:
            self.i += m.end()
            return True
        m = re.fullmatch(r";\s*echo\s*(#.*)?", rest)
        if m and stages[-1]:
            self.i = len(self.text)
            return True
        return False

    def _take(self, m: re.Match[str]) -> str:
        """Consume a match made at the cursor and return its text."""
        self.i = m.end()
        return m.group(0)

    def _blanks(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in " \t":
            self.i += 1

    def _word(self, stop: str) -> Word:
        parts: list[Part] = []
        buf: list[str] = []

        def flush(quoted: str = "") -> None:
            if buf:
                text = "".join(buf)
                if _BRACES.search(text):
                    # bash would expand `{a,b}` into two words: the line means something else than it shows
                    raise Manual("uses brace expansion ({a,b}); quote it or write one step per value")
                parts.append(Part("text", text, quoted))
                buf.clear()

        while self.i < len(self.text):
            c = self.text[self.i]
            if c in " \t" or c == "|" or (stop and c == stop):
                break
            hole = HOLE.match(self.text, self.i) if c == "<" else None
            if c in ";&>()" or (c == "<" and hole is None):
                break
            if hole is not None:  # a <placeholder>, spaces and all
                buf.append(self._take(hole))
            elif self.text.startswith("{{", self.i) and (label := ALERT_LABEL.match(self.text, self.i)):
                buf.append(self._take(label))
            elif c == "'":
                flush()
                end = self.text.find("'", self.i + 1)
                if end < 0:
                    raise Manual("has an unterminated quote")
                parts.append(Part("text", self.text[self.i + 1:end], "'"))
                self.i = end + 1
            elif c == '"':
                flush()
                parts.extend(self._double())
            elif c == "\\":
                if self.i + 1 >= len(self.text):
                    raise Manual("ends with a backslash")
                buf.append(self.text[self.i + 1])
                self.i += 2
            elif c == "$" or c == "`":
                flush()
                parts.append(self._dollar(""))
            else:
                buf.append(c)
                self.i += 1
        flush()
        return tuple(parts)

    def _double(self) -> list[Part]:
        self.i += 1
        parts: list[Part] = []
        buf: list[str] = []
        while True:
            if self.i >= len(self.text):
                raise Manual("has an unterminated quote")
            c = self.text[self.i]
            if c == '"':
                self.i += 1
                break
            if c == "\\" and self.peek(2)[1:] in ('"', "\\", "$", "`"):
                buf.append(self.text[self.i + 1])
                self.i += 2
            elif c == "{" and (label := ALERT_LABEL.match(self.text, self.i)):
                buf.append(self._take(label))
            elif c in "$`":
                if buf:
                    parts.append(Part("text", "".join(buf), '"'))
                    buf.clear()
                parts.append(self._dollar('"'))
            else:
                buf.append(c)
                self.i += 1
        if buf or not parts:
            parts.append(Part("text", "".join(buf), '"'))
        return parts

    def _dollar(self, quoted: str) -> Part:
        t, i = self.text, self.i
        if t[i] == "`" or t.startswith("$(", i):
            if t.startswith("$((", i):
                raise Manual("uses shell arithmetic ($((...))); the executor runs no shell")
            close = "`" if t[i] == "`" else ")"
            if self.depth >= MAX_DEPTH:
                raise Manual("nests command substitutions too deeply")
            inner = _Lexer(t, self.depth + 1)
            inner.i = i + (1 if close == "`" else 2)
            sub = inner.line(stop=close)
            if inner.i >= len(t) or t[inner.i] != close:
                raise Manual("has an unterminated command substitution")
            self.i = inner.i + 1
            if sub.assignments or not sub.commands:
                raise Manual("substitutes something that is not a command")
            return Part("subst", t[i:self.i], quoted, sub)
        if t.startswith("${", i):
            end = t.find("}", i)
            name = t[i + 2:end] if end > 0 else ""
            if not _NAME.fullmatch(name):
                raise Manual(f"uses a shell parameter expansion ({t[i:end + 1][:30]}); only $VAR and ${{VAR}} "
                             "are read as context values")
            self.i = end + 1
            return Part("var", name, quoted)
        m = _NAME.match(t, i + 1)
        if not m:
            raise Manual(f"uses shell expansion ({t[i:i + 2]!r}); only $VAR and ${{VAR}} are read as context values")
        return Part("var", self._take(m), quoted)

    # -- set-up lines ----------------------------------------------------------------------------
    def _split_assignments(self, stages: list[list[Word]]) -> Line:
        line = Line(commands=stages)
        if not stages:
            return line
        words = stages[0]
        if words and plain(words[0]) == "export":
            line.exported = True
            words = words[1:]
            if not words:
                raise Manual("export names no variable")
        while words and words[0] and words[0][0].kind == "text" and not words[0][0].quoted:
            m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)=", words[0][0].value)
            if not m:
                break
            first = words[0][0]
            rest = (Part("text", first.value[m.end():]),) if first.value[m.end():] else ()
            line.assignments.append((m.group(1), rest + words[0][1:]))
            words = words[1:]
        if line.assignments and len(stages) > 1 and not words:
            raise Manual("pipes an assignment into a command")
        line.commands = ([words] if words else []) + stages[1:]
        if line.exported and line.commands:
            raise Manual("export with a command after the assignment is not a set-up line")
        return line


def lex(text: str) -> Line:
    """The command line as words, or Manual / Refused with the reason."""
    _control(text)
    return _Lexer(text.strip()).line()
