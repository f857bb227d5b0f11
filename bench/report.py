"""The benchmark's Markdown report: medians, ratios to Apache, memory, floors, targets.

Pure: takes the figures the run collected (``Summary``, ``Memory``, floors, facts about
the machine) and returns text. Must not run or read anything. The targets are the ones
issue 4 ("Speed") sets; they are read here, never asserted in a test.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from probe import Floor, Profile, WrkResult

MB = 1_000_000


@dataclass(slots=True)
class Summary:
    """All rounds of one case on one server."""

    case: str
    label: str
    impl: str
    server: str
    rounds: list[WrkResult] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)  # server tree CPU seconds per round
    # CPU seconds the whole machine spent per round, less wrk's and the bench's own
    machine_s: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return statistics.median(r.rps for r in self.rounds)

    @property
    def p50(self) -> float:
        return statistics.median(r.p50_ms for r in self.rounds)

    @property
    def p99(self) -> float:
        return statistics.median(r.p99_ms for r in self.rounds)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.rounds)

    @property
    def cpu_ms_per_req(self) -> float:
        return _per_request(self.cpu_s, self.rounds)

    @property
    def machine_ms_per_req(self) -> float:
        return _per_request(self.machine_s, self.rounds)


def _per_request(seconds: Sequence[float], rounds: Sequence[WrkResult]) -> float:
    per = [c * 1000 / r.requests for c, r in zip(seconds, rounds, strict=True)
           if r.requests]
    return statistics.median(per) if per else math.nan


@dataclass(slots=True)
class Memory:
    """RSS (and PSS) of one server's whole process tree, in bytes."""

    impl: str
    server: str
    idle_start_rss: int = 0
    idle_start_pss: int = 0
    peak_rss: int = 0
    peak_case: str = ""
    idle_end_rss: int = 0
    idle_end_pss: int = 0
    processes: list[str] = field(default_factory=list)  # the tree at idle, after the run


@dataclass(frozen=True, slots=True)
class Target:
    text: str
    met: bool | None  # None: not measured in this run
    detail: str


def _n(x: float, digits: int = 0) -> str:
    if math.isnan(x):
        return "—"
    return f"{x:,.{digits}f}"


def _ms(x: float) -> str:
    if math.isnan(x):
        return "—"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def _mb(x: int) -> str:
    return f"{x / MB:.1f} MB" if x else "—"


def results_table(summaries: Sequence[Summary]) -> list[str]:
    apache = {s.case: s for s in summaries if s.impl == "apache"}
    out = ["| case | server | req/s | p50 ms | p99 ms | × Apache req/s "
           "| CPU ms/req: machine less wrk | CPU ms/req: server tree | errors |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s in summaries:
        ref = apache.get(s.case)
        ratio = "—" if ref is None or s.impl == "apache" or not ref.rps else f"{s.rps / ref.rps:.2f}"
        out.append(f"| {s.label} | {s.server} | {_n(s.rps)} | {_ms(s.p50)} | {_ms(s.p99)} "
                   f"| {ratio} | {_ms(s.machine_ms_per_req)} | {_ms(s.cpu_ms_per_req)} | {s.errors} |")
    return out


def rounds_table(summaries: Sequence[Summary]) -> list[str]:
    out = ["| case | server | req/s in each round |", "|---|---|---|"]
    for s in summaries:
        out.append(f"| {s.case} | {s.impl} | {', '.join(_n(r.rps) for r in s.rounds)} |")
    return out


def memory_table(memory: Sequence[Memory]) -> list[str]:
    out = ["| server | idle after start RSS (PSS) | peak RSS under load (case) "
           "| idle after the run RSS (PSS) | processes at idle |",
           "|---|---:|---:|---:|---:|"]
    for m in memory:
        out.append(f"| {m.server} | {_mb(m.idle_start_rss)} ({_mb(m.idle_start_pss)}) "
                   f"| {_mb(m.peak_rss)} ({m.peak_case or '—'}) "
                   f"| {_mb(m.idle_end_rss)} ({_mb(m.idle_end_pss)}) | {len(m.processes)} |")
    return out


def floors_table(floors: Sequence[Floor]) -> list[str]:
    out = ["| what | wall ms (median) | CPU ms (median) | ceiling on 2 cores, req/s |",
           "|---|---:|---:|---:|"]
    for f in floors:
        ceiling = 2000 / f.cpu_ms if f.cpu_ms > 0 else math.nan
        out.append(f"| {f.label} | {_ms(f.wall_ms)} | {_ms(f.cpu_ms)} | {_n(ceiling)} |")
    return out


def _code(frame: str) -> str:
    return "`" + frame.replace("`", "'").replace("|", "/") + "`"


def profile_table(p: Profile) -> list[str]:
    if not p.samples:
        return ["(no samples: py-spy could not attach, or the process was idle)"]
    out = ["| own % | function | total % | function |", "|---:|---|---:|---|"]
    for i in range(max(len(p.own), len(p.total))):
        o = p.own[i] if i < len(p.own) else ("", math.nan)
        t = p.total[i] if i < len(p.total) else ("", math.nan)
        out.append(f"| {_n(o[1], 1)} | {_code(o[0]) if o[0] else ''} "
                   f"| {_n(t[1], 1)} | {_code(t[0]) if t[0] else ''} |")
    return out


def check_targets(summaries: Sequence[Summary], memory: Sequence[Memory],
                  warm_seen: Mapping[str, bool]) -> list[Target]:
    """Issue 4's targets, each met / not met / not measured, with the figures."""
    by = {(s.case, s.impl): s for s in summaries}
    targets: list[Target] = []

    def vs(case: str, impl: str, factor: float, text: str) -> None:
        ours, ref = by.get((case, impl)), by.get((case, "apache"))
        if ours is None or ref is None:
            targets.append(Target(text, None, "not measured in this run"))
            return
        ratio = ours.rps / ref.rps if ref.rps else math.inf
        targets.append(Target(text, ratio >= factor,
                              f"{_n(ours.rps)} vs Apache {_n(ref.rps)} req/s = {ratio:.2f}×"))

    warm = by.get(("hello16", "cgihttpd-warmon"))
    ref = by.get(("hello16", "apache"))
    text = "hello.py @16, warm Python: ≥ 10× Apache's req/s and p99 < Apache's p50"
    if warm is None or ref is None:
        targets.append(Target(text, None, "not measured in this run"))
    else:
        ratio = warm.rps / ref.rps if ref.rps else math.inf
        met = ratio >= 10 and warm.p99 < ref.p50
        note = "" if warm_seen.get("cgihttpd-warmon") else \
            " (no zygote seen under cgihttpd with CGIWarmPython On: warm Python not active)"
        targets.append(Target(text, met, f"{_n(warm.rps)} vs {_n(ref.rps)} req/s = "
                              f"{ratio:.2f}×; p99 {_ms(warm.p99)} ms vs Apache p50 "
                              f"{_ms(ref.p50)} ms{note}"))
    vs("hello16", "cgihttpd-warmoff", 1.0, "hello.py @16, CGIWarmPython Off: ≥ Apache's req/s")
    vs("sh16", "cgihttpd", 1.0, "/bin/sh hello @16: ≥ Apache's req/s")
    vs("post8", "cgihttpd", 1.0, "POST 64 KiB @8: ≥ Apache's req/s")

    text = "static index.html @64: ≥ 0.5× Apache's req/s (best of 1 and 2 workers)"
    ref = by.get(("static64", "apache"))
    ours = [s for s in (by.get(("static64", impl))
                        for impl in ("cgihttpd", "cgihttpd-w1", "cgihttpd-w2"))
            if s is not None]
    if ref is None or not ours:
        targets.append(Target(text, None, "not measured in this run"))
    else:
        best = max(ours, key=lambda s: s.rps)
        parts = "; ".join(f"{s.server} {_n(s.rps)} = {s.rps / ref.rps:.2f}×" for s in ours)
        targets.append(Target(text, best.rps >= 0.5 * ref.rps,
                              f"Apache {_n(ref.rps)} req/s; {parts}"))

    # issue 12, "The fast path": the default server (--workers auto) beside Apache
    vs("hello16", "cgihttpd", 6.0, "issue 12, hello.py @16, default server: ≥ 6× Apache's req/s")
    text = "issue 12, hello.py @1, default server: p50 ≤ 2.5 ms"
    hello1 = by.get(("hello1", "cgihttpd"))
    if hello1 is None:
        targets.append(Target(text, None, "not measured in this run"))
    else:
        targets.append(Target(text, hello1.p50 <= 2.5, f"p50 {_ms(hello1.p50)} ms"))
    vs("static64", "cgihttpd", 1.0,
       "issue 12, static index.html @64, default workers: ≥ 1× Apache's req/s")
    vs("big16", "cgihttpd", 0.8, "issue 12, 1 MiB file @16 (sendfile): ≥ 0.8× Apache's req/s")

    text = "idle memory of the whole server incl. zygotes < 60 MB RSS"
    mems = [m for m in memory if m.impl in ("cgihttpd", "cgihttpd-warmon")]
    if not mems:
        targets.append(Target(text, None, "not measured in this run"))
    else:
        worst = max(max(m.idle_start_rss, m.idle_end_rss) for m in mems)
        parts = "; ".join(f"{m.server}: {_mb(m.idle_start_rss)} after start, "
                          f"{_mb(m.idle_end_rss)} after the run" for m in mems)
        targets.append(Target(text, worst < 60 * MB, parts))
    return targets


def render(*, title: str, machine: Sequence[tuple[str, str]],
           versions: Sequence[tuple[str, str]], method: Sequence[str],
           summaries: Sequence[Summary], memory: Sequence[Memory],
           warm: Sequence[str], warm_seen: Mapping[str, bool],
           floors: Sequence[Floor], profiles: Sequence[Profile] = ()) -> str:
    lines = [f"# {title}", "", "## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in machine]
    lines += ["", "## Versions", ""]
    lines += [f"- {k}: {v}" for k, v in versions]
    lines += ["", "## How", ""]
    lines += [f"- {m}" for m in method]
    lines += ["", "## Results (medians)", ""]
    lines += results_table(summaries)
    lines += ["", "## Memory (whole process tree: server, workers, zygotes, scripts)", ""]
    lines += memory_table(memory)
    lines += ["", "## Warm Python", ""]
    lines += [f"- {w}" for w in warm]
    lines += ["", "## Floors (same run)", ""]
    lines += floors_table(floors) if floors else ["(not measured in this run)"]
    lines += ["", "## Targets (issue 4)", ""]
    for t in check_targets(summaries, memory, warm_seen):
        mark = {True: "**met**", False: "**not met**", None: "not measured"}[t.met]
        lines.append(f"- {mark}: {t.text} — {t.detail}")
    if profiles:
        lines += ["", "## Where the time goes (py-spy on cgihttpd's process, an extra run)", ""]
        lines += ["Share of samples (100 Hz, idle excluded) by function, own time (on top of "
                  "the stack) and total (anywhere on it, leaving out the trunk: frames on more than "
                  "90% of the stacks); the run is not a measured one "
                  "(sampling pauses the process)."]
        for p in profiles:
            lines += ["", f"### {p.case} — {p.server} ({p.samples} samples)", ""]
            lines += profile_table(p)
    lines += ["", "## Every round", ""]
    lines += rounds_table(summaries)
    lines += ["", "## Processes at idle after the run", ""]
    for m in memory:
        lines.append(f"- {m.server}:")
        lines += [f"  - `{p}`" for p in m.processes] or ["  - (none)"]
    return "\n".join(lines) + "\n"
