// Quarry web UI: a collection picker, search, and ask with clickable
// citations. Talks only to the JSON API; renders server text with
// textContent. Offsets from the API are Unicode code points, so text is
// sliced with Array.from, never with UTF-16 string indexes.
"use strict";

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") n.className = v;
    else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v);
  }
  for (const c of children) n.append(c);
  return n;
}

// The API key lives in this tab's session storage only: it is gone when the
// tab closes and other origins cannot read it.
const keyStore = "quarry.apiKey";

function authHeaders(h) {
  const k = sessionStorage.getItem(keyStore);
  if (k) h.Authorization = "Bearer " + k;
  return h;
}

async function api(method, path, body) {
  const init = { method, headers: authHeaders({}) };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const e = data && data.error;
    const msg = e ? e.message + (e.field ? " (" + e.field + ")" : "") : res.status + " " + res.statusText;
    throw new Error(msg);
  }
  return data;
}

// askStream posts a question with "stream": true and calls on(name, data)
// for each Server-Sent Event as it arrives (retrieval, token, citations,
// done, error). Errors before the stream starts are JSON, as from api().
async function askStream(path, body, on) {
  const res = await fetch(path, {
    method: "POST",
    headers: authHeaders({ "Content-Type": "application/json", Accept: "text/event-stream" }),
    body: JSON.stringify({ ...body, stream: true }),
  });
  if (!res.ok || !(res.headers.get("Content-Type") || "").startsWith("text/event-stream")) {
    const data = await res.json().catch(() => null);
    const e = data && data.error;
    throw new Error(e ? e.message + (e.field ? " (" + e.field + ")" : "") : res.status + " " + res.statusText);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let end;
    while ((end = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      let name = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data) on(name, JSON.parse(data)); // lines starting with ":" are heartbeats
    }
  }
}

function setError(msg) {
  $("error").hidden = !msg;
  $("error").textContent = msg || "";
}

function scope() {
  const s = {};
  const tenant = $("tenant").value.trim();
  if (tenant) s.tenant = tenant;
  const principals = $("principals").value.split(",").map((p) => p.trim()).filter(Boolean);
  if (principals.length) s.principals = principals;
  return s;
}

function collectionPath(suffix) {
  return "/v1/collections/" + encodeURIComponent($("collection").value) + suffix;
}

async function loadCollections() {
  try {
    const { collections } = await api("GET", "/v1/collections");
    const sel = $("collection");
    sel.replaceChildren(...collections.map((c) => el("option", { value: c }, c)));
    const wanted = new URLSearchParams(location.search).get("collection");
    if (wanted && collections.includes(wanted)) sel.value = wanted;
    $("empty").hidden = collections.length > 0;
    $("query-form").hidden = collections.length === 0;
  } catch (e) {
    setError("Loading collections failed: " + e.message);
  }
}

// highlighted renders text with the given code point ranges wrapped in
// <mark> elements: [{start, end, marker}], relative to text.
function highlighted(text, ranges) {
  const cps = Array.from(text);
  const out = [];
  let pos = 0;
  for (const r of [...ranges].sort((a, b) => a.start - b.start)) {
    const start = Math.max(pos, Math.min(r.start, cps.length));
    const end = Math.max(start, Math.min(r.end, cps.length));
    if (start > pos) out.push(cps.slice(pos, start).join(""));
    out.push(el("mark", { id: "cite-" + r.marker, "data-marker": String(r.marker) }, cps.slice(start, end).join("")));
    pos = end;
  }
  if (pos < cps.length) out.push(cps.slice(pos).join(""));
  return out;
}

function snippet(text, n) {
  const cps = Array.from(text);
  return cps.length <= n ? text : cps.slice(0, n).join("") + "…";
}

function renderHits(hits, citations) {
  const list = $("source-list");
  list.replaceChildren();
  for (const h of hits) {
    const ranges = (citations || [])
      .filter((c) => c.chunk_id === h.chunk_id)
      .map((c) => ({ start: c.start - h.start, end: c.end - h.start, marker: c.marker }));
    const body = ranges.length ? highlighted(h.text, ranges) : [snippet(h.text, 320)];
    const head = el("div", { class: "hit-head" },
      el("span", { class: "title" }, h.title || h.doc_id),
      el("span", { class: "score", title: "BM25 score" }, h.score.toFixed(3)));
    const meta = el("div", { class: "meta" }, h.doc_id + (h.section ? " · " + h.section : ""));
    list.append(el("li", { "data-chunk": h.chunk_id }, head, meta, el("p", { class: "text" }, ...body)));
  }
  $("sources").hidden = false;
}

function focusCitation(marker) {
  for (const m of document.querySelectorAll("mark.active")) m.classList.remove("active");
  const m = $("cite-" + marker);
  if (!m) return;
  m.classList.add("active");
  m.scrollIntoView({ block: "center", behavior: "smooth" });
}

// renderAnswer turns "text [1] more [2]" into text with marker buttons.
function renderAnswer(text, citations) {
  const known = new Set(citations.map((c) => String(c.marker)));
  const parts = text.split(/\[(\d+)\]/);
  const nodes = parts.map((p, i) => {
    if (i % 2 === 0) return p;
    if (!known.has(p)) return "[" + p + "]";
    return el("button", { type: "button", class: "cite", title: "Show the cited passage", onclick: () => focusCitation(p) }, "[" + p + "]");
  });
  $("answer-text").replaceChildren(...nodes);
}

async function run(kind) {
  const q = $("query").value.trim();
  if (!q || !$("collection").value) return;
  const link = new URLSearchParams({ collection: $("collection").value, q });
  if (kind === "ask") link.set("ask", "1");
  history.replaceState(null, "", "?" + link.toString());
  setError("");
  $("status").textContent = kind === "ask" ? "Thinking…" : "Searching…";
  $("answer").hidden = true;
  try {
    if (kind === "ask") {
      // Streamed: sources first, then the answer as it is written, then
      // its citations as buttons and highlights.
      let text = "";
      let failed = null;
      await askStream(collectionPath("/ask"), { question: q, ...scope() }, (name, data) => {
        if (name === "retrieval") {
          $("sources-title").textContent = "Sources";
          renderHits(data.sources, []);
          $("answer-text").replaceChildren();
          $("answer-meta").textContent = "";
          $("answer").hidden = false;
        } else if (name === "token") {
          text += data.text;
          $("answer-text").textContent = text;
        } else if (name === "done") {
          renderAnswer(data.answer, data.citations);
          $("answer-meta").textContent = data.method + (data.model ? " · " + data.model : "") + " · " + data.took_ms.toFixed(1) + " ms";
          renderHits(data.sources, data.citations);
        } else if (name === "error") {
          failed = data.error ? data.error.message : "the answer failed";
        }
      });
      $("status").textContent = "";
      if (failed) setError(failed);
    } else {
      const res = await api("POST", collectionPath("/search"), { query: q, k: 10, ...scope() });
      $("sources-title").textContent = "Results";
      renderHits(res.results, []);
      $("status").textContent = res.results.length + " results · " + res.took_ms.toFixed(1) + " ms";
    }
  } catch (e) {
    $("status").textContent = "";
    $("sources").hidden = true;
    setError(e.message);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("query-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    run("search");
  });
  $("ask-btn").addEventListener("click", () => run("ask"));
  $("api-key").value = sessionStorage.getItem(keyStore) || "";
  $("api-key").addEventListener("change", () => {
    const v = $("api-key").value.trim();
    if (v) sessionStorage.setItem(keyStore, v);
    else sessionStorage.removeItem(keyStore);
    loadCollections();
  });
  // ?q=…&ask=1 runs a question on load, so answers can be linked to.
  loadCollections().then(() => {
    const p = new URLSearchParams(location.search);
    if (p.get("q")) {
      $("query").value = p.get("q");
      run(p.get("ask") ? "ask" : "search");
    }
  });
});
