// The strangler dashboard: reads the admin API every few seconds and renders it; flips flags with a
// reason. No framework, no build. Every value from the API is put in the page as text (never as HTML):
// parity samples carry whatever the upstreams answered.
"use strict";

const API = "/_strangler/api";
const REFRESH_MS = 3000;
const TOKEN_KEY = "strangler.adminToken";
const state = { selectedSample: null, routes: [], loadedOnce: false };

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

class ApiError extends Error {
  constructor(status, payload) {
    super((payload && (payload.detail || payload.error)) || `HTTP ${status}`);
    this.status = status;
  }
}

async function api(path, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const response = await fetch(API + path, { ...options, headers, cache: "no-store" });
  let payload = null;
  try { payload = await response.json(); } catch (_) { /* not JSON */ }
  if (!response.ok) throw new ApiError(response.status, payload);
  return payload;
}

// Missing optional endpoints (an older router) answer 404: the page shows what it can without them.
async function optional(path) {
  try { return await api(path); } catch (err) { if (err.status === 404) return null; throw err; }
}

const pct = (x) => (x === null || x === undefined ? "–" : `${(100 * x).toFixed(1)} %`);
const num = (x) => (x === null || x === undefined ? "–" : String(x));

// -- routes ---------------------------------------------------------------------------------------
function splitCell(traffic) {
  if (!traffic) return el("td", { class: "muted", text: "no traffic" });
  const legacy = traffic.legacy || 0, extracted = traffic.extracted || 0, total = legacy + extracted;
  if (total === 0) return el("td", { class: "muted", text: "no traffic" });
  const bar = el("span", { class: "bar", title: `legacy ${legacy} · extracted ${extracted}` });
  const fill = el("span", { class: "bar-extracted" });
  fill.style.width = `${(100 * extracted) / total}%`;  // CSSOM, allowed by the style-src policy
  bar.append(fill);
  return el("td", {}, bar, ` ${legacy} / ${extracted}`);
}

function renderRoutes(routesPayload, trafficRows, trafficSource, parityRows) {
  state.routes = routesPayload.routes;
  const traffic = {};
  for (const row of trafficRows) {
    const entry = (traffic[row.route] = traffic[row.route] || {});
    entry[row.target] = (entry[row.target] || 0) + (row.requests || 0);
  }
  const parity = Object.fromEntries(parityRows.map((r) => [r.route, r]));
  const container = $("groups");
  container.replaceChildren();
  for (const group of routesPayload.groups) {
    const flag = group.flag ? `${group.flag.mode}${group.flag.mode === "canary" ? ` ${group.flag.percent} %` : ""}` : "no group flag (legacy)";
    const rows = routesPayload.routes.filter((r) => r.group === group.name).map((r) => {
      const p = parity[r.name];
      const rate = p ? p.parity_rate : null;
      return el("tr", { "data-route": r.name },
        el("td", {}, el("code", { text: r.name })),
        el("td", { text: `${r.methods.join(",")} ${r.path}` }),
        el("td", {}, el("span", { class: `mode mode-${r.mode}`, text: r.mode })),
        el("td", { class: "num", text: `${r.percent}` }),
        el("td", { class: "num", text: `${r.shadow_rate}` }),
        el("td", { class: "muted", text: r.flag_scope }),
        splitCell(traffic[r.name]),
        el("td", { class: rate === null ? "muted num" : rate >= 0.99 ? "good num" : "bad num",
                   text: p ? `${pct(rate)} of ${p.compared}${p.writes_kept ? ` · ${p.writes_kept} writes kept` : ""}` : "–" }),
        el("td", { class: r.breaker === "closed" || !r.breaker ? "muted" : "bad", text: r.breaker || "–" }));
    });
    container.append(el("div", { class: "group", "data-group": group.name },
      el("h3", {}, `${group.name} `, el("span", { class: "muted", text: `→ ${group.upstream} · ${flag}` })),
      el("table", { class: "routes" },
        el("thead", {}, el("tr", {}, ["route", "match", "mode", "percent", "shadow", "flag from",
          `split legacy/extracted (${trafficSource})`, "parity (last hour)", "breaker"].map((h) => el("th", { text: h })))),
        el("tbody", {}, rows))));
  }
  const select = $("flip-target");
  const current = select.value;
  const targets = [...routesPayload.groups.map((g) => g.name), ...routesPayload.routes.map((r) => r.name)];
  if (select.options.length !== targets.length) {
    select.replaceChildren(...targets.map((t) => el("option", { value: t, text: t })));
    if (targets.includes(current)) select.value = current;
  }
}

// -- playbooks ------------------------------------------------------------------------------------
function renderPlans(payload) {
  const box = $("plans");
  const plans = (payload && payload.plans) || [];
  if (plans.length === 0) {
    box.replaceChildren(el("p", { class: "muted", text: payload ? "no plan state yet: run `strangler plan ...`" : "this router has no plan endpoint" }));
    return;
  }
  box.replaceChildren(...plans.map((plan) => el("div", { class: "plan", "data-capability": plan.capability },
    el("h3", {}, `${plan.capability} `, el("span", { class: `badge status-${plan.status}`, text: plan.status }),
      el("span", { class: "muted", text: ` current: ${plan.current ?? "–"} · updated ${plan.updated_at ?? "–"}` })),
    el("ol", { class: "steps" }, (plan.steps || []).map((step) => el("li", { class: `step status-${step.status}` },
      el("span", { class: "badge", text: step.status }), " ", el("strong", { text: step.name }),
      el("span", { class: "muted", text: ` (${step.kind})` }),
      (step.gates || []).length ? el("ul", { class: "gates" }, step.gates.map((g) => el("li", { class: g.ok ? "good" : g.ok === false ? "bad" : "muted" },
        g.ok ? "✓ " : g.ok === false ? "✗ " : "· ", el("code", { text: g.name }),
        ` ${num(g.figure)} (threshold ${num(g.threshold)})`, g.detail ? el("span", { class: "muted", text: ` — ${g.detail}` }) : null))) : null))))));
}

// -- differences ----------------------------------------------------------------------------------
function renderSamples(payload) {
  const list = $("samples");
  const samples = payload.samples || [];
  if (samples.length === 0) {
    list.replaceChildren(el("li", { class: "muted", text: "no differences recorded" }));
    return;
  }
  list.replaceChildren(...samples.map((s) => el("li", {},
    el("button", { type: "button", class: s.id === state.selectedSample ? "sample-link selected" : "sample-link",
                   "data-sample": String(s.id), onclick: () => showSample(s.id) },
      el("span", { class: `badge verdict-${s.verdict}`, text: s.verdict }), ` ${s.method} ${s.target}`,
      el("br"), el("span", { class: "muted", text: `${s.route} · ${s.at}` })))));
  if (state.selectedSample === null) showSample(samples[0].id);
}

const NAME = /^[A-Za-z0-9_-]+$/;
const keyPath = (base, key) => (NAME.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`);
// A difference at `a.b` marks `a.b` and everything under it; one at `a.b[sku="X"]` (lists matched by key)
// is shown by its list, `a.b`.
function isMarked(path, marked) {
  for (const m of marked) {
    if (path === m || path.startsWith(`${m}.`) || path.startsWith(`${m}[`)) return true;
    const listOnly = m.replace(/\[[A-Za-z0-9_-]+=.*$/, "");
    if (listOnly !== m && path === listOnly) return true;
  }
  return false;
}

// Pretty JSON as lines, each knowing its path, so the differing ones can be highlighted.
function jsonLines(value, path, indent, key, last, marked, out) {
  const pad = "  ".repeat(indent);
  const label = key === null ? "" : `${JSON.stringify(key)}: `;
  const comma = last ? "" : ",";
  const hit = isMarked(path, marked);
  if (value !== null && typeof value === "object") {
    const isArray = Array.isArray(value);
    const entries = isArray ? value.map((v, i) => [i, v]) : Object.entries(value);
    const [open, close] = isArray ? ["[", "]"] : ["{", "}"];
    if (entries.length === 0) { out.push([`${pad}${label}${open}${close}${comma}`, hit, path]); return; }
    out.push([`${pad}${label}${open}`, hit, path]);
    entries.forEach(([k, v], i) => jsonLines(v, isArray ? `${path}[${k}]` : keyPath(path, k), indent + 1,
      isArray ? null : k, i === entries.length - 1, marked, out));
    out.push([`${pad}${close}${comma}`, hit, path]);
  } else {
    out.push([`${pad}${label}${JSON.stringify(value)}${comma}`, hit, path]);
  }
}

function sidePanel(title, side, marked) {
  const lines = [];
  lines.push([`status ${side.status}`, marked.has("status"), "status"]);
  const body = side.body || {};
  if ("json" in body) jsonLines(body.json, "body", 0, null, true, marked, lines);
  else if ("form" in body) lines.push([body.form, marked.has("body"), "body"]);
  else {
    const digest = String(body.sha256 || body.hmac_sha256 || "");
    lines.push([`(not JSON: ${body.length ?? 0} bytes${digest ? `, digest ${digest.slice(0, 12)}…` : ""})`, false, "body"]);
  }
  return el("div", { class: "side" }, el("h4", { text: title }),
    el("pre", {}, lines.map(([text, hit, path]) => el("div", { class: hit ? "line diff" : "line", "data-path": path, text }))));
}

async function showSample(id) {
  state.selectedSample = id;
  for (const b of document.querySelectorAll(".sample-link")) b.classList.toggle("selected", b.dataset.sample === String(id));
  const box = $("sample");
  let sample;
  try { sample = await api(`/parity/samples/${id}`); } catch (err) { box.replaceChildren(el("p", { class: "bad", text: err.message })); return; }
  const differences = (sample.diff && sample.diff.differences) || [];
  const marked = new Set(differences.map((d) => d.path));
  box.replaceChildren(
    el("p", {}, el("strong", { text: `${sample.method} ${sample.target}` }), el("span", { class: "muted", text: ` · ${sample.route} · ${sample.verdict} · ${sample.at}` })),
    el("table", { class: "differences" }, el("thead", {}, el("tr", {}, ["path", "kind", "legacy", "extracted"].map((h) => el("th", { text: h })))),
      el("tbody", {}, differences.map((d) => el("tr", {}, el("td", {}, el("code", { text: d.path })), el("td", { text: d.kind }),
        el("td", { text: "legacy" in d ? JSON.stringify(d.legacy) : "(absent)" }),
        el("td", { text: "extracted" in d ? JSON.stringify(d.extracted) : "(absent)" }))))),
    el("div", { class: "side-by-side", id: "side-by-side" }, sidePanel("legacy", sample.legacy, marked), sidePanel("extracted", sample.extracted, marked)));
}

// -- history --------------------------------------------------------------------------------------
function describe(flag) {
  if (!flag) return "(none)";
  return `${flag.mode}${flag.mode === "canary" ? ` ${flag.percent} %` : ""}${flag.shadow_rate ? ` shadow ${flag.shadow_rate}` : ""}`;
}

function renderHistory(payload) {
  $("history").tBodies[0].replaceChildren(...(payload.events || []).slice(0, 15).map((e) => el("tr", {},
    el("td", { class: "muted", text: e.at }), el("td", {}, el("code", { text: e.name })),
    el("td", { text: `${describe(e.before)} → ${describe(e.after)}` }), el("td", { text: e.actor }), el("td", { class: "reason", text: e.reason }))));
}

// -- refresh loop ---------------------------------------------------------------------------------
async function refresh() {
  const status = $("status");
  if (!token()) {
    $("need-token").hidden = false;
    status.textContent = "no token";
    return;
  }
  try {
    const [routes, parity, samples, history, plans] = await Promise.all([
      api("/routes"), api("/parity"), api("/parity/samples?limit=20"), api("/history?limit=15"), optional("/plans")]);
    let traffic = await optional("/traffic"), source = "last hour, all routers";
    if (!traffic) { traffic = await optional("/counters"); source = "this router since start"; }
    $("need-token").hidden = true;
    renderRoutes(routes, (traffic && traffic.routes) || [], source, parity.routes || []);
    renderPlans(plans);
    renderSamples(samples);
    renderHistory(history);
    status.textContent = `flag version ${routes.version}${routes.store_up ? "" : " · control store unreachable"} · ${new Date().toLocaleTimeString()}`;
    status.className = routes.store_up ? "muted" : "bad";
    state.loadedOnce = true;
  } catch (err) {
    if (err.status === 401) { $("need-token").hidden = false; status.textContent = "token refused"; }
    else status.textContent = `refresh failed: ${err.message}`;
    status.className = "bad";
  }
}

async function flip(event) {
  event.preventDefault();
  const result = $("flip-result");
  const reason = $("flip-reason").value.trim();
  const body = { target: $("flip-target").value, mode: $("flip-mode").value, reason, actor: "dashboard" };
  const percent = $("flip-percent").value, shadowRate = $("flip-shadow-rate").value;
  if (percent !== "") body.percent = Number(percent);
  if (shadowRate !== "") body.shadow_rate = Number(shadowRate);
  result.className = "bad";
  if (!reason) { result.textContent = "Refused: a flip needs a reason."; $("flip-reason").focus(); return; }
  if (!token()) { result.textContent = "Refused: type the admin token first."; $("token").focus(); return; }
  try {
    const answer = await api("/flags", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const e = answer.event;
    result.className = "good";
    result.textContent = `Done: ${e.name} ${describe(e.before)} → ${describe(e.after)} (version ${e.version})`;
    $("flip-reason").value = "";
    refresh();
  } catch (err) {
    result.textContent = `Refused (${err.status || "network"}): ${err.message}`;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token").value.trim();
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    $("token").value = "";
    $("token").placeholder = value ? "token set" : "Bearer token";
    refresh();
  });
  $("forget").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); $("token").placeholder = "Bearer token"; refresh(); });
  if (token()) $("token").placeholder = "token set";
  $("flip-form").addEventListener("submit", flip);
  refresh();
  setInterval(refresh, REFRESH_MS);
});
