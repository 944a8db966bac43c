"""Executes a parsed commit message template against Go-shaped data, within limits.

Follows Go's ``text/template`` executor: field and method lookup, ``<no value>`` for
missing map keys, truthiness, ``range`` over slices, maps (sorted keys) and integers,
lazy ``and``/``or``, variables with lexical scope.  Every node, call and iteration costs
a step and the output is measured, so hostile templates end with ``EngineLimitError``
instead of hanging.  Called by ``render``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from tagpilot.core.message import nodes as n
from tagpilot.core.message.calls import (
    ANY,
    CallContext,
    FuncError,
    FuncSpec,
    ValueTooLargeError,
    argument_work,
    coerce_args,
)
from tagpilot.core.message.constants import constant_argument
from tagpilot.core.message.data import (
    NO_VALUE,
    GoStruct,
    go_sort_key,
    go_type_name,
    has_string_keys,
)
from tagpilot.core.message.failures import TEMPLATE_NAME, EngineExecError, EngineLimitError
from tagpilot.core.message.gofmt import FormatLimitError, format_value
from tagpilot.core.message.nodetext import node_text
from tagpilot.core.message.truth import is_true

__all__ = ["Limits", "execute"]

Args = tuple[n.Node, ...]
_MISSING = object()  # "no final value" in a pipeline, distinct from nil and <no value>


@dataclass(frozen=True)
class Limits:
    """Execution bounds: output bytes, steps (nodes, calls, iterations), value bytes."""

    max_output_bytes: int
    max_steps: int
    max_value_bytes: int
    max_depth: int = 100


class _Break(Exception):  # noqa: N818 - a control-flow signal, not an error
    pass


class _Continue(Exception):  # noqa: N818 - a control-flow signal, not an error
    pass


class _Executor:
    def __init__(self, source: str, funcs: Mapping[str, FuncSpec], limits: Limits) -> None:
        self.src = source
        self.templates: Mapping[str, n.ListNode] = {}
        self.depth = 0
        self.funcs = funcs
        self.limits = limits
        self.out: list[str] = []
        self.out_bytes = 0
        self.steps = 0
        self.vars: list[tuple[str, object]] = []
        self.node: n.Node | None = None
        self.context = CallContext(limits.max_value_bytes, limits.max_steps, self.charge)

    # -- bookkeeping ---------------------------------------------------------------
    def fail(self, message: str, *, limit: bool = False) -> EngineExecError:
        pos = self.node.pos if self.node is not None else 0
        line = self.src.count("\n", 0, pos) + 1
        column = pos - (self.src.rfind("\n", 0, pos) + 1)
        context = node_text(self.node) if self.node is not None else ""
        if len(context) > 20:
            context = context[:20] + "..."
        error_type = EngineLimitError if limit else EngineExecError
        return error_type(message, line=line, column=column, context=context)

    def charge(self, steps: int = 1) -> None:
        self.steps += steps
        if self.steps > self.limits.max_steps:
            raise self.fail(
                f"template exceeds the limit of {self.limits.max_steps} steps", limit=True
            )

    def write(self, text: str) -> None:
        self.out_bytes += len(text.encode())
        if self.out_bytes > self.limits.max_output_bytes:
            limit = self.limits.max_output_bytes
            raise self.fail(f"output exceeds the limit of {limit} bytes", limit=True)
        self.out.append(text)

    def at(self, node: n.Node) -> None:
        self.node = node

    @contextmanager
    def nested(self) -> Iterator[None]:
        """One level deeper (block, parenthesised pipeline, template call): bounded."""
        self.depth += 1
        if self.depth > self.limits.max_depth:
            limit = self.limits.max_depth
            raise self.fail(f"exceeded maximum template depth ({limit})", limit=True)
        try:
            yield
        finally:
            self.depth -= 1

    def lookup_var(self, name: str) -> object:
        for var_name, value in reversed(self.vars):
            if var_name == name:
                return value
        raise self.fail(f"undefined variable: {name}")

    def set_var(self, name: str, value: object) -> None:
        for index in range(len(self.vars) - 1, -1, -1):
            if self.vars[index][0] == name:
                self.vars[index] = (name, value)
                return
        raise self.fail(f"undefined variable: {name}")

    # -- statements ----------------------------------------------------------------
    def walk(self, dot: object, node: n.Node) -> None:
        self.at(node)
        self.charge()
        if isinstance(node, n.ListNode):
            for item in node.nodes:
                self.walk(dot, item)
        elif isinstance(node, n.TextNode):
            self.write(node.text)
        elif isinstance(node, n.ActionNode):
            value = self.pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.print_value(node, value)
        elif isinstance(node, n.BranchNode):
            self.branch(dot, node)
        elif isinstance(node, n.RangeNode):
            self.range_(dot, node)
        elif isinstance(node, n.TemplateNode):
            self.call_template(dot, node)
        elif isinstance(node, n.BreakNode):
            raise _Break
        elif isinstance(node, n.ContinueNode):
            raise _Continue

    def print_value(self, node: n.Node, value: object) -> None:
        self.at(node)
        # Go digs an interface{} result out before printing: a nil one is no value at all.
        self.write("<no value>" if value is NO_VALUE or value is None else format_value(value))

    def call_template(self, dot: object, node: n.TemplateNode) -> None:
        tree = self.templates.get(node.name)
        if tree is None:
            raise self.fail(f'template "{node.name}" not defined')
        value = NO_VALUE if node.pipe is None else self.pipeline(dot, node.pipe)
        saved = self.vars
        self.vars = [("$", value)]
        try:
            with self.nested():
                self.walk(value, tree)
        finally:
            self.vars = saved

    def branch(self, dot: object, node: n.BranchNode) -> None:
        mark = len(self.vars)
        with self.nested():
            value = self.pipeline(dot, node.pipe)
            if is_true(value):
                self.walk(value if node.kind == "with" else dot, node.body)
            elif node.else_body is not None:
                self.walk(dot, node.else_body)
        del self.vars[mark:]

    def range_(self, dot: object, node: n.RangeNode) -> None:
        mark = len(self.vars)
        with self.nested():
            value = self.pipeline(dot, node.pipe)
            self.at(node)
            iterated = False
            for key, elem in self.iterate(value, len(node.pipe.decl)):
                iterated = True
                self.charge()
                if self.one_iteration(node, key, elem):
                    break
            if not iterated and node.else_body is not None:
                self.walk(dot, node.else_body)
        del self.vars[mark:]

    def one_iteration(self, node: n.RangeNode, key: object, elem: object) -> bool:
        decl = node.pipe.decl
        if decl:
            self.set_var(decl[-1], elem)
        if len(decl) > 1:
            self.set_var(decl[0], key)
        mark = len(self.vars)
        try:
            self.walk(elem, node.body)
        except _Break:
            return True
        except _Continue:
            pass
        finally:
            del self.vars[mark:]
        return False

    def iterate(self, value: object, var_count: int) -> Iterator[tuple[object, object]]:
        if value is NO_VALUE or value is None:
            return iter(())
        if isinstance(value, (list, tuple)):
            return enumerate(value)
        if isinstance(value, dict):
            return ((key, value[key]) for key in sorted(value, key=go_sort_key))
        if isinstance(value, int) and not isinstance(value, bool):
            if var_count > 1:
                raise self.fail(f"can't use {value} to iterate over more than one variable")
            return ((index, index) for index in range(value))
        raise self.fail(f"range can't iterate over {format_value(value)}")

    # -- pipelines and commands ------------------------------------------------------
    def pipeline(self, dot: object, pipe: n.PipeNode) -> object:
        self.at(pipe)
        value: object = _MISSING
        for cmd in pipe.cmds:
            value = self.command(dot, cmd, value)
        for name in pipe.decl:
            if pipe.is_assign:
                self.set_var(name, value)
            else:
                self.vars.append((name, value))
        return value

    def command(self, dot: object, cmd: n.CommandNode, final: object) -> object:
        self.charge()
        first = cmd.args[0]
        self.at(first)
        if isinstance(first, n.FieldNode):
            return self.field_chain(dot, first, first.names, cmd.args, final, dot)
        if isinstance(first, n.ChainNode):
            return self.chain(dot, first, cmd.args, final)
        if isinstance(first, n.IdentifierNode):
            return self.call(dot, first, cmd.args, final)
        if isinstance(first, n.VariableNode):
            return self.variable(dot, first, cmd.args, final)
        self.not_a_function(cmd.args, final)
        if isinstance(first, n.NilNode):
            raise self.fail("nil is not a command")
        return self.constant(dot, first)

    def constant(self, dot: object, node: n.Node) -> object:
        if isinstance(node, n.DotNode):
            return dot
        if isinstance(node, n.BoolNode):
            return node.value
        if isinstance(node, n.NumberNode):
            return node.value
        if isinstance(node, n.StringNode):
            return node.text
        raise self.fail(f"can't evaluate command {node_text(node)!r}")

    def not_a_function(self, args: Args, final: object) -> None:
        if len(args) > 1 or final is not _MISSING:
            raise self.fail(f"can't give argument to non-function {node_text(args[0])}")

    def chain(self, dot: object, node: n.ChainNode, args: Args, final: object) -> object:
        with self.nested():
            value = self.arg(dot, node.node)
        if not node.names:
            self.not_a_function(args, final)
            return value
        if value is None:
            raise self.fail(f"nil pointer evaluating interface {{}}.{node.names[0]}")
        return self.field_chain(value, node, node.names, args, final, dot)

    def variable(self, dot: object, node: n.VariableNode, args: Args, final: object) -> object:
        value = self.lookup_var(node.names[0])
        if len(node.names) == 1:
            self.not_a_function(args, final)
            return value
        return self.field_chain(value, node, node.names[1:], args, final, dot)

    def field_chain(
        self,
        receiver: object,
        node: n.Node,
        names: tuple[str, ...],
        args: Args,
        final: object,
        dot: object,
    ) -> object:
        self.at(node)
        for name in names[:-1]:
            receiver = self.field(name, receiver, (), _MISSING, dot)
        return self.field(names[-1], receiver, args, final, dot)

    def field(self, name: str, receiver: object, args: Args, final: object, dot: object) -> object:
        self.charge()
        has_args = len(args) > 1 or final is not _MISSING
        if receiver is NO_VALUE:
            return NO_VALUE
        if isinstance(receiver, GoStruct):
            return self.struct_field(name, receiver, args, final, dot)
        if isinstance(receiver, dict) and has_string_keys(receiver):
            if has_args:
                raise self.fail(f"{name} is not a method but has arguments")
            return receiver.get(name, NO_VALUE)
        if receiver is None:
            raise self.fail(f"nil pointer evaluating interface {{}}.{name}")
        raise self.fail(f"can't evaluate field {name} in type {go_type_name(receiver)}")

    def struct_field(
        self, name: str, receiver: GoStruct, args: Args, final: object, dot: object
    ) -> object:
        method = receiver.method(name)
        given = max(len(args) - 1, 0) + (final is not _MISSING)
        if method is not None:
            at = self.node
            spec = FuncSpec(name, lambda ctx, *values: method(*values), receiver.params(name))
            values = [self.typed_arg(dot, arg, spec.kind_at(i)) for i, arg in enumerate(args[1:])]
            if final is not _MISSING:
                values.append(final)
            if at is not None:
                self.at(at)
            return self.invoke(spec, values)
        found, value = receiver.field(name)
        if not found:
            raise self.fail(f"can't evaluate field {name} in type {receiver.GO_TYPE}")
        if given:
            raise self.fail(f"{name} has arguments but cannot be invoked as function")
        return value

    # -- functions -------------------------------------------------------------------
    def call(self, dot: object, ident: n.IdentifierNode, args: Args, final: object) -> object:
        if ident.name in ("and", "or"):
            return self.short_circuit(dot, ident, args[1:], final)
        spec = self.funcs[ident.name]
        values = [self.typed_arg(dot, node, spec.kind_at(i)) for i, node in enumerate(args[1:])]
        if final is not _MISSING:
            values.append(final)
        self.at(ident)
        return self.invoke(spec, values)

    def typed_arg(self, dot: object, node: n.Node, kind: str) -> object:
        """Like Go, a constant meets a typed parameter directly: "expected integer; found x"."""
        if kind == ANY or not isinstance(node, (n.BoolNode, n.NumberNode, n.StringNode)):
            return self.arg(dot, node)
        self.at(node)
        try:
            return constant_argument(node, kind)
        except TypeError as error:
            raise self.fail(str(error)) from None

    def invoke(self, spec: FuncSpec, values: list[object]) -> object:
        try:
            coerced = coerce_args(spec, values)
        except TypeError as error:
            raise self.fail(str(error)) from None
        self.charge(1 + sum(argument_work(value) for value in coerced))
        try:
            result = spec.impl(self.context, *coerced)
            self.check_result(result)
        except (ValueTooLargeError, FormatLimitError) as error:
            raise self.fail(f"error calling {spec.name}: {error}", limit=True) from None
        except FuncError as error:
            raise self.fail(f"error calling {spec.name}: {error}") from None
        except (ArithmeticError, LookupError, TypeError, ValueError) as error:
            # Go's safeCall turns a panicking function into this error; so do we.
            raise self.fail(f"error calling {spec.name}: {error}") from None
        return result

    def check_result(self, result: object) -> None:
        if isinstance(result, str):
            self.context.check_size(len(result.encode()), "string")
        elif isinstance(result, (list, tuple, dict)):
            self.context.check_size(len(result), "items")

    def short_circuit(
        self, dot: object, ident: n.IdentifierNode, args: Args, final: object
    ) -> object:
        if not args and final is _MISSING:
            self.at(ident)
            raise self.fail(f"wrong number of args for {ident.name}: want at least 1 got 0")
        stop_when = ident.name == "or"
        value: object = None
        for node in args:
            value = self.arg(dot, node)
            if is_true(value) == stop_when:
                return value
        if final is not _MISSING:
            value = final
        return value

    def arg(self, dot: object, node: n.Node) -> object:
        self.at(node)
        if isinstance(node, n.FieldNode):
            return self.field_chain(dot, node, node.names, (node,), _MISSING, dot)
        if isinstance(node, n.VariableNode):
            return self.variable(dot, node, (node,), _MISSING)
        if isinstance(node, n.PipeNode):
            return self.pipeline(dot, node)
        if isinstance(node, n.ChainNode):
            return self.chain(dot, node, (node,), _MISSING)
        if isinstance(node, n.IdentifierNode):
            return self.call(dot, node, (node,), _MISSING)
        if isinstance(node, n.NilNode):
            return None
        return self.constant(dot, node)


def execute(
    source: str, program: n.Program, data: object, funcs: Mapping[str, FuncSpec], limits: Limits
) -> str:
    """Run ``program`` (parsed from ``source``) with ``data`` as dot; return the output."""
    executor = _Executor(source, funcs, limits)
    executor.templates = {**program.templates, TEMPLATE_NAME: program.root}
    executor.vars.append(("$", data))
    try:
        executor.walk(data, program.root)
    except RecursionError:
        # ``set`` can put a map inside itself; Go would overflow its stack printing it.
        raise executor.fail(
            "value nesting too deep (a map that contains itself?)", limit=True
        ) from None
    return "".join(executor.out)
