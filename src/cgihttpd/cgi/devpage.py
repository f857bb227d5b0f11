"""The dev-mode pages: a ``Diagnosis`` as HTML.

Owns the rendering only: the whole 500 page for a script that failed before its
headers (``render_page``), the block appended to an HTML body cut short after them
(``render_tail``) and the small box of notes appended to a page that worked
(``render_notes``). Everything the script or the request wrote is escaped. Pure: it
knows nothing of how the diagnosis was made nor of how the page is sent.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape

from cgihttpd.cgi.diagnosis import Diagnosis, Problem, ScriptInfo, diagnose

_STYLE = """<style>
.cgihttpd-dev{font:15px/1.45 system-ui,sans-serif;color:#222;background:#fff;
max-width:60em;margin:1em auto;padding:1em 1.5em;border:3px solid #c0392b;border-radius:6px}
.cgihttpd-dev h1,.cgihttpd-dev h2{color:#c0392b;margin:.2em 0 .4em}
.cgihttpd-dev h1{font-size:1.5em}.cgihttpd-dev h2{font-size:1.1em}
.cgihttpd-dev .advice{font-size:1.15em;background:#fdf2e9;padding:.5em .8em;
border-left:5px solid #e67e22}
.cgihttpd-dev pre{background:#f6f6f6;padding:.6em;overflow:auto;white-space:pre-wrap}
.cgihttpd-dev table{border-collapse:collapse}.cgihttpd-dev th{text-align:left;
padding-right:1em;vertical-align:top}.cgihttpd-dev .bad{background:#fadbd8;
font-weight:bold}.cgihttpd-dev .n{color:#888;user-select:none}
.cgihttpd-dev .note{background:#fef9e7;padding:.4em .8em;border-left:5px solid #f1c40f}
</style>"""


def _e(text: str) -> str:
    return escape(text, quote=True)


def _facts(d: Diagnosis) -> str:
    rows = [("Script", d.script), ("Run with", d.interpreter), ("Ended", d.exit)]
    if d.exception:
        rows.append(("Error", d.exception))
    return "<table>" + "".join(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>"
                               for k, v in rows) + "</table>"


def _frames(d: Diagnosis) -> str:
    if not d.frames:
        return ""
    items = "".join(
        f"<li><code>{_e(f.file)}</code>, line {f.line}"
        + (f", in <code>{_e(f.function)}</code>" if f.function else "")
        + (f"<br><code class=\"bad\">{_e(f.code)}</code>" if f.code else "") + "</li>"
        for f in d.frames)
    return f"<h2>Where (the traceback, innermost last)</h2><ol>{items}</ol>"


def _stdout(d: Diagnosis) -> str:
    title = d.stdout_title or "What the script printed (stdout, first bytes)"
    if not d.stdout or (len(d.stdout) == 1 and not d.stdout[0].text):
        return f"<h2>{_e(title)}</h2><p>Nothing.</p>"
    rows = []
    for line in d.stdout:
        text = _e(line.text.replace("\r", "\\r"))
        mark = " class=\"bad\"" if line.bad else ""
        arrow = " &larr; here" if line.bad else ""
        rows.append(f"<span class=\"n\">{line.number:3d} </span><span{mark}>{text}</span>"
                    f"{arrow}")
    more = "\n..." if d.stdout_truncated else ""
    return (f"<h2>{_e(title)}</h2><pre>"
            + "\n".join(rows) + more + "</pre>")


def _stderr(d: Diagnosis) -> str:
    if not d.stderr:
        return "<h2>What the script wrote to stderr</h2><p>Nothing.</p>"
    return f"<h2>What the script wrote to stderr</h2><pre>{_e(d.stderr)}</pre>"


def _notes(notes: tuple[str, ...]) -> str:
    return "".join(f"<p class=\"note\">{_e(n)}</p>" for n in notes)


def _block(d: Diagnosis) -> str:
    return (f"<div class=\"cgihttpd-dev\" id=\"cgihttpd-dev\"><h1>{_e(d.title)}</h1>"
            f"<p class=\"advice\"><b>What to change:</b> {_e(d.advice)}</p>"
            f"{_notes(d.notes)}{_facts(d)}{_frames(d)}{_stderr(d)}{_stdout(d)}"
            "<p><small>cgihttpd dev mode (CGIDevMode On / --dev): in production this "
            "is Apache's error page, with these details in the error log.</small></p>"
            "</div>")


def explain_refusal(problem: Problem, path: str, url: str, *, status: int,
                    source: bytes = b"") -> bytes:
    """The page for a request that never ran its script (not found, ExecCGI off,
    sent as text); ``source``: the file's first bytes, shown for "as-text"."""
    d = diagnose(ScriptInfo(path, url=url), problem, stdout=source,
                 stdout_title="The file's first lines" if source else "")
    if problem != "as-text":
        d = replace(d, exit="never started")
    return render_page(d, status)


def render_page(d: Diagnosis, status: int = 500) -> bytes:
    """The whole page for a script that failed before its response started."""
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{status} - {_e(d.title)}</title>{_STYLE}</head><body>"
            f"{_block(d)}</body></html>\n").encode()


def render_tail(d: Diagnosis) -> bytes:
    """Appended to an HTML body the script cut short (after its headers)."""
    return ("\n<!-- cgihttpd dev mode: the script failed here -->\n"
            f"{_STYLE}{_block(d)}\n").encode()


def render_notes(title: str, notes: tuple[str, ...]) -> bytes:
    """Appended to an HTML page that worked but has something to fix."""
    return ("\n<!-- cgihttpd dev mode -->\n" + _STYLE
            + f"<div class=\"cgihttpd-dev\" id=\"cgihttpd-dev\"><h2>{_e(title)}</h2>"
            + _notes(notes) + "</div>\n").encode("utf-8")
