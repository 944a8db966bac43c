"""The parse tree of a commit message template: what the parser builds and the executor walks.

Every node records ``pos`` (a character offset into the template source) so execution
errors can say where they happened, the way Go's ``text/template`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ActionNode",
    "BoolNode",
    "BranchNode",
    "BreakNode",
    "ChainNode",
    "CommandNode",
    "ContinueNode",
    "DotNode",
    "FieldNode",
    "IdentifierNode",
    "ListNode",
    "NilNode",
    "Node",
    "NumberNode",
    "PipeNode",
    "Program",
    "RangeNode",
    "StringNode",
    "TemplateNode",
    "TextNode",
    "VariableNode",
]


@dataclass(frozen=True)
class TextNode:
    """Literal text copied to the output."""

    pos: int
    text: str


@dataclass(frozen=True)
class DotNode:
    """The cursor ``.``."""

    pos: int


@dataclass(frozen=True)
class NilNode:
    """The untyped ``nil`` constant."""

    pos: int


@dataclass(frozen=True)
class BoolNode:
    """``true`` or ``false``."""

    pos: int
    value: bool


@dataclass(frozen=True)
class NumberNode:
    """A numeric constant; ``value`` is an int, float or complex as Go would evaluate it."""

    pos: int
    text: str
    value: int | float | complex


@dataclass(frozen=True)
class StringNode:
    """A quoted or raw string constant (already unquoted)."""

    pos: int
    text: str


@dataclass(frozen=True)
class FieldNode:
    """A field chain on the cursor: ``.A.B``."""

    pos: int
    names: tuple[str, ...]


@dataclass(frozen=True)
class VariableNode:
    """A variable, optionally followed by fields: ``$x.A.B``; ``names[0]`` is ``$x``."""

    pos: int
    names: tuple[str, ...]


@dataclass(frozen=True)
class IdentifierNode:
    """A function name."""

    pos: int
    name: str


@dataclass(frozen=True)
class ChainNode:
    """Fields applied to a parenthesised pipeline: ``(pipe).A.B``."""

    pos: int
    node: Node
    names: tuple[str, ...]


@dataclass(frozen=True)
class CommandNode:
    """One command of a pipeline: an operand and its arguments."""

    pos: int
    args: tuple[Node, ...]


@dataclass(frozen=True)
class PipeNode:
    """A pipeline with optional variable declarations (``$a, $b :=`` or ``$a =``)."""

    pos: int
    decl: tuple[str, ...]
    is_assign: bool
    cmds: tuple[CommandNode, ...]


@dataclass(frozen=True)
class ActionNode:
    """``{{pipeline}}``: evaluate and print unless the pipeline declares variables."""

    pos: int
    line: int
    pipe: PipeNode


@dataclass(frozen=True)
class ListNode:
    """A sequence of nodes."""

    pos: int
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class BranchNode:
    """``if`` or ``with``: run ``body`` when the pipeline is true, else ``else_body``."""

    pos: int
    line: int
    kind: str
    pipe: PipeNode
    body: ListNode
    else_body: ListNode | None


@dataclass(frozen=True)
class RangeNode:
    """``range``: run ``body`` per element, ``else_body`` when there are none."""

    pos: int
    line: int
    pipe: PipeNode
    body: ListNode
    else_body: ListNode | None


@dataclass(frozen=True)
class TemplateNode:
    """``{{template "name" pipeline}}`` (also what ``{{block}}`` leaves in place)."""

    pos: int
    line: int
    name: str
    pipe: PipeNode | None


@dataclass(frozen=True)
class Program:
    """A parsed template: the main tree and the trees ``define``/``block`` named."""

    root: ListNode
    templates: dict[str, ListNode]


@dataclass(frozen=True)
class BreakNode:
    """``{{break}}`` inside a range."""

    pos: int
    line: int


@dataclass(frozen=True)
class ContinueNode:
    """``{{continue}}`` inside a range."""

    pos: int
    line: int


Node = (
    TextNode
    | DotNode
    | NilNode
    | BoolNode
    | NumberNode
    | StringNode
    | FieldNode
    | VariableNode
    | IdentifierNode
    | ChainNode
    | CommandNode
    | PipeNode
    | ActionNode
    | ListNode
    | BranchNode
    | RangeNode
    | TemplateNode
    | BreakNode
    | ContinueNode
)
