"""Parser for Go ``text/template`` source: tokens in, a ``ListNode`` tree out.

Follows Go's parser: functions must exist at parse time, variables must be declared
before use (and go out of scope at ``{{end}}``), ``else if``/``else with`` chain,
``break``/``continue`` only inside ``range``, ``define`` only at the top level.
"""

from __future__ import annotations

from collections.abc import Collection

from tagpilot.core.message import nodes as n
from tagpilot.core.message.failures import EngineSyntaxError
from tagpilot.core.message.lexer import Kind, Token, tokenize
from tagpilot.core.message.literals import parse_number, unquote

__all__ = ["MAX_NESTING", "parse"]

MAX_NESTING = 100
_NON_EXECUTABLE = (n.BoolNode, n.DotNode, n.NilNode, n.NumberNode, n.StringNode)
_OPERAND_STARTS = frozenset(
    {
        Kind.BOOL,
        Kind.CHAR_CONSTANT,
        Kind.DOT,
        Kind.FIELD,
        Kind.IDENTIFIER,
        Kind.NUMBER,
        Kind.NIL,
        Kind.RAW_STRING,
        Kind.STRING,
        Kind.VARIABLE,
        Kind.LEFT_PAREN,
    }
)


class _Parser:
    def __init__(self, source: str, functions: Collection[str]) -> None:
        self.src = source
        self.tokens = tokenize(source)
        self.index = 0
        self.functions = functions
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.depth = 0
        self.templates: dict[str, n.ListNode] = {}

    # -- token helpers -------------------------------------------------------------
    def fail(self, message: str, token: Token | None = None) -> EngineSyntaxError:
        pos = (token or self.tokens[min(self.index, len(self.tokens) - 1)]).pos
        return EngineSyntaxError(message, self.src.count("\n", 0, pos) + 1)

    def next(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def peek(self) -> Token:
        return self.tokens[self.index]

    def next_non_space(self) -> Token:
        token = self.next()
        while token.kind is Kind.SPACE:
            token = self.next()
        return token

    def peek_non_space(self) -> Token:
        token = self.next_non_space()
        self.index -= 1
        return token

    def expect(self, kind: Kind, context: str) -> Token:
        token = self.next_non_space()
        if token.kind is not kind:
            raise self.fail(f"unexpected {_describe(token)} in {context}", token)
        return token

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(f"template nesting deeper than {MAX_NESTING} levels")

    # -- structure -----------------------------------------------------------------
    def parse_root(self) -> n.Program:
        body, stop = self.item_list(top=True)
        assert stop is None
        return n.Program(body, self.templates)

    def item_list(self, *, top: bool = False) -> tuple[n.ListNode, Token | None]:
        """Parse items until ``{{end}}``/``{{else}}`` (returned) or EOF (only at top level)."""
        start = self.peek().pos
        items: list[n.Node] = []
        while True:
            token = self.peek()
            if token.kind is Kind.EOF:
                if not top:
                    raise self.fail("unexpected EOF", token)
                return n.ListNode(start, tuple(items)), None
            if token.kind is Kind.TEXT:
                self.next()
                items.append(n.TextNode(token.pos, token.value))
                continue
            self.next()
            keyword = self.peek_non_space()
            if top and keyword.kind is Kind.KEYWORD and keyword.value == "define":
                self.next_non_space()
                self.define(keyword)
                continue
            if keyword.kind is Kind.KEYWORD and keyword.value in ("end", "else"):
                if top:
                    raise self.fail(f"unexpected {{{{{keyword.value}}}}}", keyword)
                self.next_non_space()
                if keyword.value == "end":
                    self.expect(Kind.RIGHT, "end")
                return n.ListNode(start, tuple(items)), keyword
            items.append(self.action(token))

    def action(self, left: Token) -> n.Node:
        token = self.peek_non_space()
        line = self.src.count("\n", 0, left.pos) + 1
        if token.kind is Kind.KEYWORD:
            self.next_non_space()
            return self.keyword_action(token, line)
        pipe = self.pipeline("command", Kind.RIGHT)
        return n.ActionNode(left.pos, line, pipe)

    def keyword_action(self, token: Token, line: int) -> n.Node:
        word = token.value
        if word in ("if", "with"):
            return self.branch(word, token, line)
        if word == "range":
            return self.range_(token, line)
        if word in ("break", "continue"):
            return self.loop_control(word, token, line)
        if word in ("template", "block"):
            return self.template_call(word, token, line)
        raise self.fail(f"unexpected <{word}> in command", token)

    # -- define / template / block -------------------------------------------------
    def template_name(self, context: str) -> str:
        token = self.next_non_space()
        if token.kind not in (Kind.STRING, Kind.RAW_STRING):
            raise self.fail(f"unexpected {_describe(token)} in {context} clause", token)
        return self.unquote(token)

    def body(self, context: str) -> n.ListNode:
        """A named template's body: its own variables, no enclosing ``range``."""
        saved = (self.vars, self.range_depth)
        self.vars, self.range_depth = ["$"], 0
        body, stop = self.item_list()
        assert stop is not None
        if stop.value != "end":
            raise self.fail(f"unexpected {{{{{stop.value}}}}} in {context}", stop)
        self.vars, self.range_depth = saved
        return body

    def add_template(self, name: str, body: n.ListNode, token: Token) -> None:
        if body.nodes and self.templates.get(name, n.ListNode(0, ())).nodes:
            raise self.fail(f"template: multiple definition of template {name!r}", token)
        if body.nodes or name not in self.templates:
            self.templates[name] = body

    def define(self, token: Token) -> None:
        name = self.template_name("define")
        self.expect(Kind.RIGHT, "define clause")
        self.add_template(name, self.body("define"), token)

    def template_call(self, word: str, token: Token, line: int) -> n.TemplateNode:
        name = self.template_name(word)
        pipe = None
        if self.peek_non_space().kind is Kind.RIGHT:
            self.next_non_space()
        else:
            pipe = self.pipeline(f"{word} clause", Kind.RIGHT)
        if word == "block":
            self.nest()  # a block's body nests inside the enclosing one
            self.add_template(name, self.body("block"), token)
            self.depth -= 1
        return n.TemplateNode(token.pos, line, name, pipe)

    def loop_control(self, word: str, token: Token, line: int) -> n.Node:
        closing = self.next_non_space()
        if closing.kind is not Kind.RIGHT:
            raise self.fail(f"unexpected {_describe(closing)} in {{{{{word}}}}}", closing)
        if self.range_depth == 0:
            raise self.fail(f"{{{{{word}}}}} outside {{{{range}}}}", token)
        return n.BreakNode(token.pos, line) if word == "break" else n.ContinueNode(token.pos, line)

    def branch(self, kind: str, token: Token, line: int) -> n.BranchNode:
        self.nest()
        mark = len(self.vars)
        pipe = self.pipeline(kind, Kind.RIGHT)
        body, stop = self.item_list()
        else_body = self.else_part(kind, stop, allow_chain=True)
        del self.vars[mark:]
        self.depth -= 1
        return n.BranchNode(token.pos, line, kind, pipe, body, else_body)

    def else_part(self, kind: str, stop: Token | None, *, allow_chain: bool) -> n.ListNode | None:
        assert stop is not None
        if stop.value == "end":
            return None
        chained = self.peek_non_space()
        if allow_chain and chained.kind is Kind.KEYWORD and chained.value == kind:
            self.next_non_space()
            line = self.src.count("\n", 0, chained.pos) + 1
            inner = self.branch(kind, chained, line)
            return n.ListNode(chained.pos, (inner,))
        self.expect(Kind.RIGHT, "else")
        else_body, end = self.item_list()
        assert end is not None
        if end.value != "end":
            raise self.fail(f"expected end; found {{{{{end.value}}}}}", end)
        return else_body

    def range_(self, token: Token, line: int) -> n.RangeNode:
        self.nest()
        mark = len(self.vars)
        pipe = self.pipeline("range", Kind.RIGHT)
        self.range_depth += 1
        body, stop = self.item_list()
        self.range_depth -= 1
        else_body = self.else_part("range", stop, allow_chain=False)
        del self.vars[mark:]
        self.depth -= 1
        return n.RangeNode(token.pos, line, pipe, body, else_body)

    # -- pipelines -----------------------------------------------------------------
    def pipeline(self, context: str, end: Kind) -> n.PipeNode:
        start = self.peek_non_space().pos
        decl, is_assign = self.declarations(context)
        cmds: list[n.CommandNode] = []
        while True:
            token = self.peek_non_space()
            if token.kind is end:
                self.next_non_space()
                break
            if token.kind not in _OPERAND_STARTS:
                raise self.fail(f"unexpected {_describe(token)} in {context}", token)
            cmds.append(self.command())
        self.check_pipeline(cmds, context)
        return n.PipeNode(start, decl, is_assign, tuple(cmds))

    def declarations(self, context: str) -> tuple[tuple[str, ...], bool]:
        token = self.peek_non_space()
        if token.kind is not Kind.VARIABLE:
            return (), False
        save = self.index
        self.next_non_space()
        follow = self.next_non_space()
        if follow.kind in (Kind.DECLARE, Kind.ASSIGN):
            if follow.kind is Kind.ASSIGN and token.value not in self.vars:
                raise self.fail(f'undefined variable "{token.value}"', token)
            if follow.kind is Kind.DECLARE:
                self.vars.append(token.value)
            return (token.value,), follow.kind is Kind.ASSIGN
        if follow.kind is Kind.CHAR and follow.value == "," and context == "range":
            return self.second_declaration(token), False
        self.index = save
        return (), False

    def second_declaration(self, first: Token) -> tuple[str, ...]:
        second = self.next_non_space()
        if second.kind is not Kind.VARIABLE:
            raise self.fail(f"range can only initialize variables, not {_describe(second)}", second)
        op = self.next_non_space()
        if op.kind is not Kind.DECLARE:
            raise self.fail("range can only initialize variables", op)
        self.vars.extend((first.value, second.value))
        return (first.value, second.value)

    def check_pipeline(self, cmds: list[n.CommandNode], context: str) -> None:
        if not cmds:
            raise self.fail(f"missing value for {context}")
        for stage, cmd in enumerate(cmds[1:], start=2):
            if isinstance(cmd.args[0], _NON_EXECUTABLE):
                raise self.fail(f"non executable command in pipeline stage {stage}")

    def command(self) -> n.CommandNode:
        start = self.peek_non_space().pos
        args: list[n.Node] = []
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                args.append(operand)
            token = self.next()
            if token.kind is Kind.SPACE:
                continue
            if token.kind in (Kind.RIGHT, Kind.RIGHT_PAREN):
                self.index -= 1
            elif token.kind is not Kind.PIPE:
                raise self.fail(f"unexpected {_describe(token)} in operand", token)
            break
        if not args:
            raise self.fail("empty command")
        return n.CommandNode(start, tuple(args))

    def operand(self) -> n.Node | None:
        term = self.term()
        if term is None or self.peek().kind is not Kind.FIELD:
            return term
        names: list[str] = []
        while self.peek().kind is Kind.FIELD:
            names.append(self.next().value[1:])
        if isinstance(term, n.FieldNode):
            return n.FieldNode(term.pos, term.names + tuple(names))
        if isinstance(term, n.VariableNode):
            return n.VariableNode(term.pos, term.names + tuple(names))
        if isinstance(term, (n.BoolNode, n.StringNode, n.NumberNode, n.NilNode, n.DotNode)):
            raise self.fail(f"unexpected . after term {self.src[term.pos : self.peek().pos]!r}")
        if isinstance(term, n.ChainNode) and not term.names:
            return n.ChainNode(term.pos, term.node, tuple(names))
        return n.ChainNode(term.pos, term, tuple(names))

    def term(self) -> n.Node | None:
        token = self.next_non_space()
        kind = token.kind
        if kind is Kind.IDENTIFIER:
            if token.value not in self.functions:
                raise self.fail(f'function "{token.value}" not defined', token)
            return n.IdentifierNode(token.pos, token.value)
        if kind is Kind.DOT:
            return n.DotNode(token.pos)
        if kind is Kind.NIL:
            return n.NilNode(token.pos)
        if kind is Kind.VARIABLE:
            return self.variable(token)
        if kind is Kind.FIELD:
            return n.FieldNode(token.pos, (token.value[1:],))
        return self.constant_or_group(token)

    def variable(self, token: Token) -> n.VariableNode:
        if token.value not in self.vars:
            raise self.fail(f'undefined variable "{token.value}"', token)
        return n.VariableNode(token.pos, (token.value,))

    def constant_or_group(self, token: Token) -> n.Node | None:
        kind = token.kind
        if kind is Kind.BOOL:
            return n.BoolNode(token.pos, token.value == "true")
        if kind in (Kind.NUMBER, Kind.CHAR_CONSTANT):
            return self.number(token)
        if kind in (Kind.STRING, Kind.RAW_STRING):
            return n.StringNode(token.pos, self.unquote(token))
        if kind is Kind.LEFT_PAREN:
            self.nest()
            pipe = self.pipeline("parenthesized pipeline", Kind.RIGHT_PAREN)
            self.depth -= 1
            return n.ChainNode(token.pos, pipe, ())
        self.index -= 1
        return None

    def number(self, token: Token) -> n.NumberNode:
        try:
            value = parse_number(token.value, is_char=token.kind is Kind.CHAR_CONSTANT)
        except ValueError:
            raise self.fail(f"bad number syntax: {token.value!r}", token) from None
        return n.NumberNode(token.pos, token.value, value)

    def unquote(self, token: Token) -> str:
        try:
            return unquote(token.value)
        except ValueError:
            raise self.fail(f"bad string syntax: {token.value!r}", token) from None


def _describe(token: Token) -> str:
    if token.kind is Kind.EOF:
        return "EOF"
    if token.kind is Kind.RIGHT:
        return '"}}"'
    return f"<{token.value}>" if token.kind is Kind.KEYWORD else f'"{token.value}"'


def parse(source: str, functions: Collection[str]) -> n.Program:
    """Parse ``source``; ``functions`` are the names callable from the template."""
    return _Parser(source, functions).parse_root()
