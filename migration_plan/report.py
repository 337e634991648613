"""The migration report: Markdown and HTML of a capability's playbook, its steps and gates with their
figures, and the timeline from the audit (plain string templates, no extra dependency)."""

from __future__ import annotations

import html
import json


def markdown(snapshot: dict, audit: list[dict]) -> str:
    lines = [f"# Migration of {snapshot['capability']}", "",
             f"Playbook `{snapshot.get('playbook', '')}`, status **{snapshot['status']}**, updated {snapshot.get('updated_at', '')}.",
             "", "## Steps", "", "| # | step | kind | status | hold | entered |", "|---|---|---|---|---|---|"]
    for i, s in enumerate(snapshot["steps"], 1):
        lines.append(f"| {i} | {s['name']} | {s['kind']} | {s['status']} | {s['hold_seconds']:g} s | {s.get('entered_at') or ''} |")
    for s in snapshot["steps"]:
        if s.get("gates"):
            lines += ["", f"### Gates of {s['name']}", "", "| gate | verdict | figure | threshold |", "|---|---|---|---|"]
            for g in s["gates"]:
                verdict = {True: "pass", False: "FAIL", None: "not enough evidence"}[g["ok"]]
                lines.append(f"| {g['name']} | {verdict} | {g['figure']} | {g['threshold']} |")
    lines += ["", "## Timeline", "", "| at | step | action | outcome | actor | reason | evidence |", "|---|---|---|---|---|---|---|"]
    for a in sorted(audit, key=lambda a: a["id"]):
        ev = json.dumps(a["evidence"], default=str).replace("|", "\\|")
        lines.append(f"| {a['at']} | {a['step']} | {a['action']} | {a['outcome']} | {a['actor']} | "
                     f"{a['reason'].replace('|', '/')} | {ev[:600]} |")
    return "\n".join(lines) + "\n"


def html_page(snapshot: dict, audit: list[dict]) -> str:
    e = html.escape
    rows = "".join(f"<tr><td>{i}</td><td>{e(s['name'])}</td><td>{e(s['kind'])}</td><td class='{e(s['status'])}'>"
                   f"{e(s['status'])}</td><td>{s['hold_seconds']:g} s</td><td>{e(str(s.get('entered_at') or ''))}</td></tr>"
                   for i, s in enumerate(snapshot["steps"], 1))
    gates = ""
    for s in snapshot["steps"]:
        if s.get("gates"):
            gates += f"<h3>Gates of {e(s['name'])}</h3><table><tr><th>gate</th><th>verdict</th><th>figure</th><th>threshold</th></tr>"
            for g in s["gates"]:
                verdict = {True: "pass", False: "fail", None: "not enough evidence"}[g["ok"]]
                gates += (f"<tr><td>{e(g['name'])}</td><td class='{verdict.split()[0]}'>{verdict}</td>"
                          f"<td>{e(g['figure'])}</td><td>{e(g['threshold'])}</td></tr>")
            gates += "</table>"
    timeline = "".join(
        f"<tr><td>{e(a['at'])}</td><td>{e(a['step'])}</td><td>{e(a['action'])}</td><td>{e(a['outcome'])}</td>"
        f"<td>{e(a['actor'])}</td><td>{e(a['reason'])}</td><td><pre>{e(json.dumps(a['evidence'], indent=1, default=str))}</pre></td></tr>"
        for a in sorted(audit, key=lambda a: a["id"]))
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Migration of {e(snapshot['capability'])}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top}}
.fail,.blocked,.rolled{{color:#b00}}.pass,.done{{color:#070}}pre{{margin:0;font-size:11px;max-width:60em;white-space:pre-wrap}}</style></head>
<body><h1>Migration of {e(snapshot['capability'])}</h1>
<p>Playbook <code>{e(str(snapshot.get('playbook', '')))}</code>, status <b>{e(snapshot['status'])}</b>, updated {e(str(snapshot.get('updated_at', '')))}.</p>
<h2>Steps</h2><table><tr><th>#</th><th>step</th><th>kind</th><th>status</th><th>hold</th><th>entered</th></tr>{rows}</table>
{gates}<h2>Timeline</h2><table><tr><th>at</th><th>step</th><th>action</th><th>outcome</th><th>actor</th><th>reason</th><th>evidence</th></tr>{timeline}</table>
</body></html>
"""
