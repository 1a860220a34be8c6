"""Canonical HCL formatting, as `terraform fmt` does it, for checking in tests.

A port of the whitespace rules of HashiCorp's `hclwrite` formatter (the code
behind `terraform fmt`): indentation by bracket nesting, the spacing rules
between tokens, and alignment of `=` (and trailing comments) over consecutive
single-line attributes. Like `hclwrite` it only moves horizontal whitespace;
it does not add or remove lines.

`canonical(text)` returns the formatted text; a file is canonical when that is
the text itself. The tokenizer covers the HCL native syntax this repository
uses (blocks, expressions, quoted templates, heredocs as opaque tokens,
comments); real `terraform fmt -check` still runs in CI with the official binary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Token types (names follow hclsyntax's).
IDENT = "Ident"
NUMBER = "NumberLit"
OBRACE, CBRACE = "OBrace", "CBrace"
OBRACK, CBRACK = "OBrack", "CBrack"
OPAREN, CPAREN = "OParen", "CParen"
OQUOTE, CQUOTE = "OQuote", "CQuote"
QUOTED_LIT = "QuotedLit"
HEREDOC = "Heredoc"  # opener, body and closing marker as one opaque token
INTERP, CONTROL, SEQ_END = "TemplateInterp", "TemplateControl", "TemplateSeqEnd"
COMMENT = "Comment"
NEWLINE = "Newline"
EQUAL = "Equal"
COMMA, DOT, ELLIPSIS, COLON, QUESTION = "Comma", "Dot", "Ellipsis", "Colon", "Question"
FAT_ARROW = "FatArrow"
PLUS, MINUS, STAR, SLASH, PERCENT, BANG = "Plus", "Minus", "Star", "Slash", "Percent", "Bang"
EQUAL_OP, NOT_EQUAL = "EqualOp", "NotEqual"
LT, LE, GT, GE = "LessThan", "LessThanEq", "GreaterThan", "GreaterThanEq"
AND, OR = "And", "Or"
NIL = "Nil"

_OPERATORS = [
    ("...", ELLIPSIS),
    ("==", EQUAL_OP),
    ("!=", NOT_EQUAL),
    ("<=", LE),
    (">=", GE),
    ("&&", AND),
    ("||", OR),
    ("=>", FAT_ARROW),
    ("=", EQUAL),
    ("{", OBRACE),
    ("}", CBRACE),
    ("[", OBRACK),
    ("]", CBRACK),
    ("(", OPAREN),
    (")", CPAREN),
    (",", COMMA),
    (".", DOT),
    (":", COLON),
    ("?", QUESTION),
    ("+", PLUS),
    ("-", MINUS),
    ("*", STAR),
    ("/", SLASH),
    ("%", PERCENT),
    ("<", LT),
    (">", GT),
    ("!", BANG),
]

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER_RE = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_HEREDOC_RE = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_-]*)\r?\n")


class HclSyntaxError(ValueError):
    """The text is not HCL this tokenizer understands."""


@dataclass
class Token:
    type: str
    text: str
    spaces: int = 0  # spaces before the token

    @property
    def ends_line(self) -> bool:
        # Single-line comments consume their newline, like hclsyntax's.
        return self.type == NEWLINE or (self.type == COMMENT and self.text.endswith("\n"))


def tokenize(text: str) -> list[Token]:
    """Split HCL native syntax into tokens, whitespace recorded as `spaces`."""
    tokens: list[Token] = []
    # Each frame is ("expr", brace depth, inside a template?) or ("str",).
    frames: list[list] = [["expr", 0, False]]
    i, n = 0, len(text)
    spaces = 0

    def emit(kind: str, value: str) -> None:
        nonlocal spaces
        tokens.append(Token(kind, value, spaces))
        spaces = 0

    while i < n:
        frame = frames[-1]
        if frame[0] == "str":
            c = text[i]
            if c == '"':
                emit(CQUOTE, c)
                frames.pop()
                i += 1
            elif text.startswith("${", i) or text.startswith("%{", i):
                emit(INTERP if c == "$" else CONTROL, text[i : i + 2])
                frames.append(["expr", 0, True])
                i += 2
            elif c == "\n":
                raise HclSyntaxError(f"newline in a quoted string at offset {i}")
            else:
                start = i
                while i < n:
                    if text[i] == "\\":
                        i += 2
                    elif text.startswith("$${", i) or text.startswith("%%{", i):
                        i += 3
                    elif (
                        text[i] == '"'
                        or text[i] == "\n"
                        or text.startswith("${", i)
                        or text.startswith("%{", i)
                    ):
                        break
                    else:
                        i += 1
                emit(QUOTED_LIT, text[start:i])
            continue

        c = text[i]
        if c in " \t":
            spaces += 1
            i += 1
        elif c == "\r" and text.startswith("\r\n", i):
            spaces = 0
            emit(NEWLINE, "\n")
            i += 2
        elif c == "\n":
            spaces = 0
            emit(NEWLINE, "\n")
            i += 1
        elif c == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end == -1 else end + 1
            emit(COMMENT, text[i:end])
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end == -1:
                raise HclSyntaxError(f"unterminated comment at offset {i}")
            emit(COMMENT, text[i : end + 2])
            i = end + 2
        elif c == '"':
            emit(OQUOTE, c)
            frames.append(["str"])
            i += 1
        elif (m := _HEREDOC_RE.match(text, i)) is not None:
            indented, marker = m.group(1), m.group(2)
            j = m.end()
            while True:
                eol = text.find("\n", j)
                line = text[j:] if eol == -1 else text[j:eol]
                if (line.strip() if indented else line) == marker:
                    end = j + len(line)
                    break
                if eol == -1:
                    raise HclSyntaxError(f"unterminated heredoc {marker}")
                j = eol + 1
            emit(HEREDOC, text[i:end])
            i = end
        elif (m := _IDENT_RE.match(text, i)) is not None:
            emit(IDENT, m.group())
            i = m.end()
        elif (m := _NUMBER_RE.match(text, i)) is not None:
            emit(NUMBER, m.group())
            i = m.end()
        else:
            match = next(((op, kind) for op, kind in _OPERATORS if text.startswith(op, i)), None)
            if match is None:
                raise HclSyntaxError(f"unexpected character {c!r} at offset {i}")
            op, kind = match
            if kind == OBRACE:
                frame[1] += 1
            elif kind == CBRACE:
                if frame[2] and frame[1] == 0:
                    kind = SEQ_END
                    frames.pop()
                else:
                    frame[1] -= 1
            emit(kind, op)
            i += len(op)
    if len(frames) != 1:
        raise HclSyntaxError("unterminated string or template")
    return tokens


def _bracket_change(tok: Token) -> int:
    if tok.type in (OBRACE, OBRACK, OPAREN, INTERP, CONTROL):
        return 1
    if tok.type in (CBRACE, CBRACK, CPAREN, SEQ_END):
        return -1
    return 0


_NIL = Token(NIL, "")


def _space_after(subject: Token, before: Token, after: Token) -> bool:
    """hclwrite's spaceAfterToken, rule for rule and in the same order."""
    if after.type in (NEWLINE, NIL):
        return False
    if subject.type == IDENT and after.type == OPAREN:
        return False
    if subject.type == DOT or after.type == DOT:
        return False
    if after.type in (COMMA, ELLIPSIS):
        return False
    if subject.type == COMMA:
        return True
    if subject.type in (QUOTED_LIT, OQUOTE, HEREDOC) or after.type in (QUOTED_LIT, CQUOTE):
        return False
    if subject.type == IDENT and subject.text == "in" and before.type == IDENT:
        return True
    if after.type == OBRACK and (subject.type in (IDENT, NUMBER) or _bracket_change(subject) < 0):
        return False
    if subject.type == MINUS:
        # A minus after something that cannot end an operand is a negation.
        return before.type not in (
            NIL,
            OPAREN,
            OBRACE,
            OBRACK,
            EQUAL,
            COLON,
            COMMA,
            QUESTION,
            PLUS,
            STAR,
            SLASH,
            PERCENT,
            MINUS,
            EQUAL_OP,
            NOT_EQUAL,
            GT,
            GE,
            LT,
            LE,
            AND,
            OR,
            BANG,
        )
    if subject.type == OBRACE or after.type == CBRACE:
        return not (subject.type == OBRACE and after.type == CBRACE)
    if subject.type in (INTERP, CONTROL) and after.type == OBRACE:
        return True
    if subject.type == CBRACE and after.type == SEQ_END:
        return True
    if subject.type == SEQ_END and after.type in (INTERP, CONTROL):
        return False
    if subject.type == BANG:
        return False
    if _bracket_change(subject) > 0:
        return False
    return not _bracket_change(after) < 0


@dataclass
class _Line:
    lead: list[Token]
    assign: list[Token]
    comment: list[Token]


def _columns(tokens: list[Token]) -> int:
    return sum(t.spaces + len(t.text) for t in tokens)


def _lines(tokens: list[Token]) -> list[_Line]:
    lines, current = [], []
    for tok in tokens:
        current.append(tok)
        if tok.ends_line:
            lines.append(_Line(current, [], []))
            current = []
    if current:
        lines.append(_Line(current, [], []))
    for line in lines:
        if len(line.lead) > 1 and line.lead[-1].type == COMMENT:
            line.comment = line.lead[-1:]
            line.lead = line.lead[:-1]
        for i, tok in enumerate(line.lead):
            if i > 0 and tok.type == EQUAL:
                # Only a whole expression on this line joins the alignment.
                if sum(_bracket_change(t) for t in line.lead[i:]) == 0:
                    line.assign = line.lead[i:]
                    line.lead = line.lead[:i]
                break
    return lines


def _format_indent(lines: list[_Line]) -> None:
    indents: list[int] = []
    for line in lines:
        if not line.lead:
            continue
        if line.lead[0].type == NEWLINE:
            line.lead[0].spaces = 0
            continue
        net = sum(_bracket_change(t) for t in line.lead + line.assign)
        if net > 0:
            line.lead[0].spaces = 2 * len(indents)
            indents.append(net)
        elif net < 0:
            closed = -net
            while closed > 0 and indents:
                if closed > indents[-1]:
                    closed -= indents.pop()
                elif closed < indents[-1]:
                    indents[-1] -= closed
                    closed = 0
                else:
                    indents.pop()
                    closed = 0
            line.lead[0].spaces = 2 * len(indents)
        else:
            line.lead[0].spaces = 2 * len(indents)


def _format_spaces(lines: list[_Line]) -> None:
    for line in lines:
        for cell, is_assign in ((line.lead, False), (line.assign, True)):
            for i, tok in enumerate(cell):
                if is_assign and i == 0:
                    tok.spaces = 1
                before = cell[i - 1] if i > 0 else _NIL
                after = cell[i + 1] if i + 1 < len(cell) else _NIL
                if after is not _NIL:
                    after.spaces = 1 if _space_after(tok, before, after) else 0


def _align(lines: list[_Line], cell: str) -> None:
    def width(line: _Line) -> int:
        return _columns(line.lead) + (_columns(line.assign) if cell == "comment" else 0)

    chain: list[_Line] = []
    for line in [*lines, None]:
        if line is not None and getattr(line, cell):
            chain.append(line)
            continue
        widest = max((width(c) for c in chain), default=0)
        for member in chain:
            getattr(member, cell)[0].spaces = widest - width(member) + 1
        chain = []


def _unwrap_legacy(tokens: list[Token]) -> list[Token]:
    """Drop what `terraform fmt` drops: `"${expr}"` as a whole attribute value
    becomes `expr`, and a quoted type constraint (`type = "string"`) loses its quotes."""
    drop: set[int] = set()
    for i, tok in enumerate(tokens):
        if tok.type != EQUAL or i == 0 or tokens[i - 1].type != IDENT:
            continue
        end = i + 1
        while end < len(tokens) and not tokens[end].ends_line:
            end += 1
        value = list(range(i + 1, end))
        kinds = [tokens[j].type for j in value]
        texts = [tokens[j].text for j in value]
        if (
            tokens[i - 1].text == "type"
            and kinds == [OQUOTE, QUOTED_LIT, CQUOTE]
            and texts[1] in ("string", "number", "bool", "list", "map", "any")
        ):
            drop.update((value[0], value[2]))
            tokens[value[1]] = Token(IDENT, texts[1])
        elif len(kinds) >= 4 and kinds[:2] == [OQUOTE, INTERP] and kinds[-2:] == [SEQ_END, CQUOTE]:
            depth = 0
            for pos, kind in enumerate(kinds[1:-1], start=1):
                depth += _bracket_change(Token(kind, ""))
                if depth == 0 and pos != len(kinds) - 2:
                    break  # the interpolation closes before the end: a real template
            else:
                drop.update((value[0], value[1], value[-2], value[-1]))
    return [t for j, t in enumerate(tokens) if j not in drop]


def canonical(text: str) -> str:
    """Return `text` formatted the way `terraform fmt` formats it."""
    tokens = _unwrap_legacy(tokenize(text))
    lines = _lines(tokens)
    _format_indent(lines)
    _format_spaces(lines)
    _align(lines, "assign")
    _align(lines, "comment")
    return "".join(" " * t.spaces + t.text for t in tokens)
