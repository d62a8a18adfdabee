"""Fast XML answers for DescribeSecurityGroups and DescribeSecurityGroupRules, byte for byte moto's.

Why: moto's ``EC2Serializer`` walks the botocore output shape for every object of an answer and asks
its ``XFormedAttributePicker`` for every member: six alias-provider objects, up to a dozen attribute
names tried, and every response transformer's key path tested with ``endswith``; the dict tree it
builds is then written by ``xmltodict`` through SAX calls. For 1000 tagged groups a
DescribeSecurityGroups spent ~0.4-0.8 s there (1500 rules: ~0.3-0.4 s) where AWS answers in ~100 ms,
so the emulator, not the provider, set the benchmark's refresh time.

What: the same walk, with the work that cannot change during one answer done once. The output shape
is compiled once per operation into nodes (element names, moto's key paths); the picker's candidate
names for a member are asked of moto's own alias providers once per answer and (member, class of
the object, its ``Meta``), a key path's transformer once per answer; the text is written directly
with ``xml.sax.saxutils`` escaping, as ``xmltodict`` writes it. Values are read with the same
lookups in the same order, so properties run as under moto.

Fallback (``fast_body`` answers None): another operation, serializer, picker or alias providers,
pretty printing, a shape feature the compiler does not know (namespaces, attributes, flattened
lists, maps, timestamps, ...), an odd candidate name. Errors never get here (moto serializes them
itself); the caller also falls back on any exception. ``test_launcher_speed_xml.py`` compares both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from xml.sax.saxutils import escape, quoteattr

FAST_OPERATIONS = frozenset({"DescribeSecurityGroups", "DescribeSecurityGroupRules"})
TAG = re.compile(r"[A-Za-z][A-Za-z0-9]*")
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
MAX_DEPTH = 12


class Unsupported(Exception):
    """A shape or value the fast path does not reproduce exactly: moto's own code answers."""


def _integer(value: Any) -> str:
    return str(int(value))


def _boolean(value: Any) -> str:
    textual = str(value).lower() == "true"  # moto evaluates both of its conditions
    return "true" if value is True or textual else "false"


TEXT = {"string": str, "integer": _integer, "long": _integer, "boolean": _boolean}


@dataclass(eq=False)
class Node:
    """One shape at one place of the answer: ``tag`` is its element name."""

    kind: str  # "structure", "list" or a scalar type name
    tag: str
    shape: Any
    members: list[Member] = field(default_factory=list)  # structure
    item: Node | None = None  # list: the node of one item (a structure)

    def __post_init__(self) -> None:
        self.text = TEXT.get(self.kind)  # a scalar's character data, as moto's _serialize_type_*
        self.open, self.close, self.empty = f"<{self.tag}>", f"</{self.tag}>", f"<{self.tag}/>"


@dataclass(eq=False)
class Member:
    """A structure member: ``key`` is what moto's picker is asked for, at ``path``.``key``."""

    key: str
    shape: Any
    node: Node
    path: str  # ".".join(moto's serializer path) when it picks this member


def _tag(shape: Any, default: str) -> str:
    """moto's ``get_serialized_name``, refusing what its ``_default_serialize`` would decorate."""
    ser = shape.serialization
    if ser.get("xmlNamespace") or ser.get("xmlAttribute") or ser.get("flattened"):
        raise Unsupported(shape.name)
    tag = ser.get("name", default)
    if not isinstance(tag, str) or not TAG.fullmatch(tag):
        raise Unsupported(tag)
    return tag


def _structure(shape: Any, tag: str, path: list[str], depth: int) -> Node:
    if depth > MAX_DEPTH:
        raise Unsupported(shape.name)
    node = Node("structure", tag, shape)
    for key, mshape in shape.members.items():
        node.members.append(Member(key, mshape, _node(mshape, key, [*path, key], depth + 1), ".".join(path)))
    tags = [m.node.tag for m in node.members]
    if len(set(tags)) != len(tags):  # moto's dict would keep the first place and the last value
        raise Unsupported(shape.name)
    return node


def _node(shape: Any, key: str, path: list[str], depth: int) -> Node:
    tag = _tag(shape, key)
    if shape.type_name in TEXT:
        return Node(shape.type_name, tag, shape)
    if shape.type_name == "structure":
        return _structure(shape, tag, path, depth)
    member = getattr(shape, "member", None)
    if shape.type_name == "list" and member is not None and member.type_name == "structure":
        item = _structure(member, _tag(member, "member"), [*path, member.name], depth)
        return Node("list", tag, shape, item=item)
    raise Unsupported(shape.name)


_COMPILED: dict[Any, Node | None] = {}


def compiled(operation_model: Any) -> Node | None:
    """The operation's output tree (None: not reproducible); moto's operation models are cached."""
    if operation_model not in _COMPILED:
        shape = operation_model.output_shape
        try:
            if shape is None or shape.type_name != "structure":
                raise Unsupported(str(operation_model.name))
            root: Node | None = _structure(shape, "", [str(operation_model.name), shape.name], 0)
        except Unsupported:
            root = None
        _COMPILED[operation_model] = root
    return _COMPILED[operation_model]


def _text(out: list[str], tag: str, text: str) -> None:
    """xmltodict with short_empty_elements: ``<t/>`` for "", else escaped character data."""
    out.append(f"<{tag}>{escape(text)}</{tag}>" if text else f"<{tag}/>")


class Answer:
    """One answer's walk: moto's serializer order, with its per-answer invariants cached."""

    def __init__(self, serializer: Any) -> None:
        from moto.core import serialize

        self.serializer = serializer
        self.picker = serializer._value_picker
        self.get_value = serialize.get_value  # the lookup moto's picker uses
        self.missing = serialize.MISSING
        self.plans: dict[tuple[Node, Any, Any], list[tuple[Member, tuple[str, ...], Any]]] = {}

    def plan(self, node: Node, obj: Any) -> list[tuple[Member, tuple[str, ...], Any]]:
        """Per member: the picker's candidate names for this kind of object, and the transformer.

        The alias providers look at the object only through ``__class__`` and ``Meta``."""
        cls, meta = obj.__class__, getattr(obj, "Meta", None)
        key = (node, cls, meta)
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = [(m, self.candidates(node, m, obj), self.transformer(m)) for m in node.members]
        return plan

    def candidates(self, node: Node, member: Member, obj: Any) -> tuple[str, ...]:
        from moto.core.serialize import AttributePickerContext

        member.shape.parent = node.shape  # as moto's _serialize_type_structure sets it
        model = self.serializer.operation_model
        context = AttributePickerContext(obj=obj, key=member.key, shape=member.shape, operation_model=model,
                                         service_model=model.service_model, key_path=member.path)
        names = tuple(self.picker.get_possible_keys(context))
        if not all(isinstance(n, str) and "." not in n for n in names):
            raise Unsupported(member.key)
        return names

    def transformer(self, member: Member) -> Any:
        """The first response transformer whose path ends moto's key path (AttributePicker.__call__)."""
        key_path = f"{member.path}.{member.key}"
        for path, transform in (self.picker.response_transformers or {}).items():
            if key_path.endswith(path):
                return transform
        return None

    def structure(self, node: Node, obj: Any, out: list[str]) -> bool:
        """Append the members' XML; False when there were none (moto's empty dict)."""
        if type(obj) is dict:
            get = obj.get
        elif hasattr(obj, "__getitem__"):
            get = partial(self.get_value, obj)
        else:
            get = partial(getattr, obj)  # what get_value does for such an object
        missing, start = self.missing, len(out)
        for member, names, transform in self.plan(node, obj):
            for name in names:
                value = get(name, missing)
                if value is not missing:
                    break
            else:
                value = None
            if transform is not None:
                value = transform(value)
            if value is not None:
                self.emit(member.node, value, out)
        return len(out) > start

    def emit(self, node: Node, value: Any, out: list[str]) -> None:
        """One member as xmltodict writes moto's value: ``<t/>`` for "" or an empty structure."""
        if node.text is not None:
            text = node.text(value)
            out.append(f"{node.open}{escape(text)}{node.close}" if text else node.empty)
        elif node.item is not None:
            self.items(node, value, out)
        else:
            out.append(node.open)
            if self.structure(node, value, out):
                out.append(node.close)
            else:
                out[-1] = node.empty

    def items(self, node: Node, value: Any, out: list[str]) -> None:
        """A non-flattened list: None and empty items dropped, no item at all -> ``<tag/>``."""
        item = node.item
        assert item is not None
        out.append(node.open)
        start = len(out)
        for obj in value:
            if obj is None:
                continue
            out.append(item.open)
            if self.structure(item, obj, out):
                out.append(item.close)
            else:
                out.pop()
        if len(out) == start:
            out[-1] = node.empty
        else:
            out.append(node.close)


def eligible(serializer: Any) -> bool:
    """Exactly the setup the fast path reproduces: moto's EC2 serializer and picker, not pretty."""
    from moto.core.serialize import DEFAULT_ALIAS_PROVIDERS, EC2Serializer, XFormedAttributePicker

    picker = getattr(serializer, "_value_picker", None)
    return (type(serializer) is EC2Serializer and serializer.operation_name in FAST_OPERATIONS
            and not serializer.pretty_print and serializer.CONTENT_TYPE == "text/xml"
            and serializer.MAP_TYPE is dict and type(picker) is XFormedAttributePicker
            and picker.alias_providers == DEFAULT_ALIAS_PROVIDERS)


def fast_body(serializer: Any, result: Any) -> str | None:
    """The body ``EC2Serializer`` would write for this (non-error) result, or None."""
    if not eligible(serializer):
        return None
    model = serializer.operation_model
    root = compiled(model)
    request_id = serializer.context.request_id
    namespace = model.metadata.get("xmlNamespace")
    if root is None or not isinstance(request_id, str) or not isinstance(namespace, (str, type(None))):
        return None
    if "xmlNamespace" in model.metadata and namespace is None:
        return None
    out: list[str] = []
    try:
        if result is not None:
            Answer(serializer).structure(root, result, out)
    except Unsupported:
        return None
    _text(out, "requestId", request_id)
    name = f"{model.name}Response"
    attrs = "" if namespace is None else f" xmlns={quoteattr(namespace)}"
    return f"{XML_DECLARATION}<{name}{attrs}>{''.join(out)}</{name}>"
