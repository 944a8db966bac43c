"""Renders parse tree nodes back to template text, for the context of execution errors.

Mirrors Go's ``Node.String()`` closely enough for messages like
``executing "commit message" at <.Updated.Images>``.  Used by the executor.
"""

from __future__ import annotations

from tagpilot.core.message import nodes as n
from tagpilot.core.message.gofmt import go_quote

__all__ = ["node_text"]


def _pipe_text(pipe: n.PipeNode) -> str:
    decl = ""
    if pipe.decl:
        decl = ", ".join(pipe.decl) + (" = " if pipe.is_assign else " := ")
    return decl + " | ".join(node_text(cmd) for cmd in pipe.cmds)


def _arg_text(node: n.Node) -> str:
    return f"({node_text(node)})" if isinstance(node, n.PipeNode) else node_text(node)


def node_text(node: n.Node) -> str:
    """The template text a node stands for."""
    if isinstance(node, n.FieldNode):
        return "".join("." + name for name in node.names)
    if isinstance(node, n.VariableNode):
        return ".".join(node.names)
    if isinstance(node, n.ChainNode):
        return _arg_text(node.node) + "".join("." + name for name in node.names)
    if isinstance(node, n.CommandNode):
        return " ".join(_arg_text(arg) for arg in node.args)
    if isinstance(node, n.PipeNode):
        return _pipe_text(node)
    return _simple_text(node)


def _simple_text(node: n.Node) -> str:
    if isinstance(node, n.IdentifierNode):
        return node.name
    if isinstance(node, n.StringNode):
        return go_quote(node.text)
    if isinstance(node, n.NumberNode):
        return node.text
    if isinstance(node, n.BoolNode):
        return "true" if node.value else "false"
    if isinstance(node, n.NilNode):
        return "nil"
    if isinstance(node, n.DotNode):
        return "."
    if isinstance(node, n.ActionNode):
        return "{{" + _pipe_text(node.pipe) + "}}"
    if isinstance(node, n.RangeNode):
        return "{{range " + _pipe_text(node.pipe) + "}}"
    if isinstance(node, n.BranchNode):
        return "{{" + node.kind + " " + _pipe_text(node.pipe) + "}}"
    return ""
