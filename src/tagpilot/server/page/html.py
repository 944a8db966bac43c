"""The status page's HTML: server-rendered views of :mod:`tagpilot.core.statusview`.

Every value is escaped (objects' messages are user-controlled).  Each page refreshes
itself: a ``<meta refresh>`` inside ``<noscript>`` when scripting is off, else the small
``page.js`` swaps in the fresh ``<main>`` without a reload.  Nothing is fetched from
elsewhere: the stylesheet and the script are served from the package.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from urllib.parse import quote

from tagpilot.core.statusview import AutomationView, ObjectRow, PolicyView
from tagpilot.core.tagtimeline import TimelineEntry
from tagpilot.server.page.gather import ReceiverRow
from tagpilot.server.page.svg import timeline_svg

__all__ = [
    "ASSETS",
    "ROOT",
    "automation_page",
    "detail_url",
    "not_found_page",
    "overview_page",
    "policy_page",
    "timeline_page",
]

ROOT = "/status"
ASSETS = f"{ROOT}/assets"
_DETAIL = {"ImagePolicy": "policy", "ImageUpdateAutomation": "automation"}


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def detail_url(kind: str, namespace: str, name: str) -> str | None:
    """The page of one object, for the kinds that have one."""
    page = _DETAIL.get(kind)
    if page is None:
        return None
    return f"{ROOT}/{page}/{quote(namespace, safe='')}/{quote(name, safe='')}"


def _layout(title: str, body: str, *, refresh: int, banner: str | None) -> str:
    warning = f'<p class="banner">{_e(banner)}</p>' if banner else ""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)} · tagpilot</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<noscript><meta http-equiv="refresh" content="{refresh}"></noscript>'
        f'<link rel="stylesheet" href="{ASSETS}/page.css">'
        f'<script src="{ASSETS}/page.js" defer></script>'
        f'</head><body data-refresh="{refresh}">'
        f'<header><a class="brand" href="{ROOT}">tagpilot</a><nav>'
        f'<a href="{ROOT}">Overview</a><a href="{ROOT}/timeline">Timeline</a></nav>'
        '<span class="live" aria-live="polite"></span></header>'
        f"<main>{warning}<h1>{_e(title)}</h1>{body}</main></body></html>\n"
    )


def _state(row: ObjectRow) -> str:
    word = {"True": "Ready", "False": "Not ready"}.get(row.ready, "Unknown")
    suspended = ' <span class="pill suspended">suspended</span>' if row.suspended else ""
    return f'<span class="pill ready-{_e(row.ready.lower())}">{word}</span>{suspended}'


def _name_cell(row: ObjectRow) -> str:
    url = detail_url(row.kind, row.namespace, row.name)
    text = f"{_e(row.namespace)}/{_e(row.name)}"
    return f'<a href="{_e(url)}">{text}</a>' if url else text


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], css: str = "") -> str:
    header = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'


def _object_rows(rows: Sequence[ObjectRow]) -> str:
    if not rows:
        return '<p class="empty">No object matches.</p>'
    cells = [
        [
            _e(row.kind),
            _name_cell(row),
            _state(row),
            f'<span class="message">{_e(row.message)}</span>',
            f"{_e(row.activity)}: <time>{_e(row.last_time or '—')}</time>",
            f"<code>{_e(row.summary)}</code>",
        ]
        for row in rows
    ]
    head = ["Kind", "Object", "State", "Message", "Last activity", "Detail"]
    return _table(head, cells, "objects")


def _filters(namespaces: Sequence[str], namespace: str | None, not_ready: bool) -> str:
    options = "".join(
        f'<option value="{_e(ns)}"{" selected" if ns == namespace else ""}>{_e(ns)}</option>'
        for ns in namespaces
    )
    checked = " checked" if not_ready else ""
    return (
        f'<form class="filters" method="get" action="{ROOT}">'
        '<label>Namespace <select name="namespace"><option value="">all</option>'
        f"{options}</select></label>"
        f'<label><input type="checkbox" name="notReady" value="1"{checked}> not ready only'
        '</label><button type="submit">Filter</button></form>'
    )


def overview_page(
    rows: Sequence[ObjectRow],
    receivers: Sequence[ReceiverRow],
    *,
    namespaces: Sequence[str],
    namespace: str | None,
    not_ready: bool,
    refresh: int,
    banner: str | None = None,
) -> str:
    """Every object with its state, filtered; the Receivers by name."""
    ready = sum(1 for row in rows if row.ready == "True")
    body = (
        _filters(namespaces, namespace, not_ready)
        + f'<p class="counts">{ready} of {len(rows)} shown objects are Ready.</p>'
        + _object_rows(rows)
    )
    if receivers:
        cells = [
            [f"{_e(r.namespace)}/{_e(r.name)}", _e(r.type), "suspended" if r.suspended else ""]
            for r in receivers
        ]
        body += "<h2>Webhook receivers</h2>" + _table(["Receiver", "Type", ""], cells)
    return _layout("Overview", body, refresh=refresh, banner=banner)


def _facts(pairs: Sequence[tuple[str, str]]) -> str:
    return '<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in pairs) + "</dl>"


def policy_page(view: PolicyView, *, refresh: int, banner: str | None = None) -> str:
    """One ImagePolicy: latest and previous tag, every tag's verdict, the warnings."""
    row = view.row
    body = _facts(
        [
            ("State", _state(row)),
            ("Message", f'<span class="message">{_e(row.message)}</span>'),
            ("Image repository", _e(view.repository)),
            ("Latest tag", f'<code class="latest">{_e(view.latest or "—")}</code>'),
            ("Previous tag", f'<code class="previous">{_e(view.previous or "—")}</code>'),
        ]
    )
    if view.warnings:
        items = "".join(f"<li>{_e(w)}</li>" for w in view.warnings)
        body += f'<h2>Warnings</h2><ul class="warnings">{items}</ul>'
    if view.error:
        body += f'<p class="error">{_e(view.error)}</p>'
    body += "<h2>Why this tag: every tag's verdict</h2>"
    cells = [
        [f"<code>{_e(v.tag)}</code>", f'<span class="verdict-{_e(v.status)}">{_e(v.status)}</span>',
         _e(v.reason)]
        for v in view.verdicts
    ]  # fmt: skip
    body += _table(["Tag", "Verdict", "Reason"], cells, "verdicts") if cells else ""
    title = f"ImagePolicy {row.namespace}/{row.name}"
    return _layout(title, body, refresh=refresh, banner=banner)


def automation_page(view: AutomationView, *, refresh: int, banner: str | None = None) -> str:
    """One ImageUpdateAutomation: its pushes, the quiet runs, its failures."""
    row = view.row
    body = _facts(
        [
            ("State", _state(row)),
            ("Message", f'<span class="message">{_e(row.message)}</span>'),
            ("Runs without change", _e(view.quiet)),
        ]
    )
    body += "<h2>Pushes</h2>"
    if not view.pushes:
        body += '<p class="empty">No push yet.</p>'
    for push in view.pushes:
        changes = _table(
            ["File", "Object", "Old", "New"],
            [[_e(c.file), _e(c.object), f"<code>{_e(c.old)}</code>", f"<code>{_e(c.new)}</code>"]
             for c in push.changes],
            "changes",
        )  # fmt: skip
        body += (
            f'<section class="push"><h3><time>{_e(push.time)}</time> '
            f'<code class="sha">{_e(push.commit[:10])}</code> → {_e(push.branch)}</h3>'
            f'<pre class="commit-message">{_e(push.message)}</pre>{changes}</section>'
        )
    body += "<h2>Failures</h2>"
    if view.failures:
        cells = [[f"<time>{_e(f.time)}</time>", _e(f.reason), _e(f.message)] for f in view.failures]
        body += _table(["Time", "Reason", "Message"], cells, "failures")
    else:
        body += '<p class="empty">No failure recorded.</p>'
    title = f"ImageUpdateAutomation {row.namespace}/{row.name}"
    return _layout(title, body, refresh=refresh, banner=banner)


def timeline_page(
    entries: Sequence[TimelineEntry], *, refresh: int, banner: str | None = None
) -> str:
    """Per image: when each tag was picked and when it was committed, as SVG and a table."""
    cells = [
        [_e(t.image), f"<code>{_e(t.tag)}</code>", f"<time>{_e(t.seen)}</time>",
         f"<time>{_e(t.committed or '—')}</time>",
         _e("" if t.latency_seconds is None else f"{t.latency_seconds:.1f} s")]
        for t in entries
    ]  # fmt: skip
    body = (
        '<p class="legend">● picked by a policy (found in the registry) '
        "■ committed by an automation</p>"
        + timeline_svg(list(entries))
        + (_table(["Image", "Tag", "Picked", "Committed", "Latency"], cells, "timeline-table")
           if cells else "")
    )  # fmt: skip
    return _layout("Timeline", body, refresh=refresh, banner=banner)


def not_found_page(what: str, *, refresh: int) -> str:
    """The page for an object that is not loaded (it may come back after a reload)."""
    return _layout("Not found", f'<p class="error">{_e(what)}</p>', refresh=refresh, banner=None)
