// Quarry web UI: chat with streamed answers and clickable citations, a
// document viewer, a search debugger, collections and upload, metrics and
// evaluation. Talks only to the JSON API (docs/api.md). Every string from
// the server is rendered with textContent or as attribute values, never as
// HTML. Offsets from the API are Unicode code points, so text is sliced
// with Array.from, never with UTF-16 string indexes.
"use strict";

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") n.className = v;
    else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== undefined && c !== null) n.append(c);
  return n;
}

const svgNS = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...children) {
  const n = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
  for (const c of children) n.append(c);
  return n;
}

// ---- session state -------------------------------------------------------

const store = {
  get(k, def) {
    try {
      const v = sessionStorage.getItem("quarry." + k);
      return v === null ? def : JSON.parse(v);
    } catch {
      return def;
    }
  },
  set(k, v) {
    try {
      sessionStorage.setItem("quarry." + k, JSON.stringify(v));
    } catch {
      // full or disabled: the UI works without it
    }
  },
  del(k) {
    try {
      sessionStorage.removeItem("quarry." + k);
    } catch {}
  },
};

function scope() {
  const s = store.get("scope", {});
  const out = {};
  if (s.tenant) out.tenant = s.tenant;
  if (s.principals && s.principals.length) out.principals = s.principals;
  return out;
}

function currentCollection() {
  return $("collection").value;
}

function colPath(name, suffix) {
  return "/v1/collections/" + encodeURIComponent(name) + (suffix || "");
}

// ---- HTTP ----------------------------------------------------------------

class APIError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function authHeaders(h) {
  const key = store.get("key", "");
  if (key) h.Authorization = "Bearer " + key;
  return h;
}

function describe(status, data, statusText) {
  const e = data && data.error;
  let msg = e && e.message ? e.message + (e.field ? " (field " + e.field + ")" : "") : status + " " + (statusText || "");
  if (status === 401) msg = "Not signed in: the server needs a valid API key (missing, wrong or expired). Enter one in Settings. Server said: " + msg;
  if (status === 403) msg = "Not allowed: this API key's role cannot do that. Server said: " + msg;
  if (status === 429) msg = "Too many requests; wait a moment and retry. Server said: " + msg;
  return msg;
}

async function errorFrom(res) {
  const data = await res.json().catch(() => null);
  const e = data && data.error;
  return new APIError(res.status, describe(res.status, data, res.statusText), e && e.code);
}

async function api(method, path, body, opts) {
  const init = { method, headers: authHeaders({}), signal: opts && opts.signal };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new APIError(0, "The server could not be reached (" + e.message + "). Is quarry serve running?");
  }
  if (!res.ok) throw await errorFrom(res);
  const text = await res.text(); // a 204 has no body
  return text ? JSON.parse(text) : {};
}

// askStream posts a question with "stream": true and calls on(name, data)
// for each Server-Sent Event as it arrives (retrieval, token, citations,
// done, error). Errors before the stream starts are JSON, as from api().
// It reports whether the stream ended with a done or error event: false
// means the connection was cut.
async function askStream(path, body, on, signal) {
  let res;
  try {
    res = await fetch(path, {
      method: "POST",
      headers: authHeaders({ "Content-Type": "application/json", Accept: "text/event-stream" }),
      body: JSON.stringify({ ...body, stream: true }),
      signal,
    });
  } catch (e) {
    if (signal && signal.aborted) throw e;
    throw new APIError(0, "The server could not be reached (" + e.message + ").");
  }
  if (!res.ok) throw await errorFrom(res);
  if (!(res.headers.get("Content-Type") || "").startsWith("text/event-stream")) {
    on("done", await res.json());
    return true;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let finished = false;
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
      if (!data) continue; // lines starting with ":" are heartbeats
      if (name === "done" || name === "error") finished = true;
      on(name, JSON.parse(data));
    }
  }
  return finished;
}

// ---- banner, theme, settings, routing -------------------------------------

function showError(msg) {
  $("banner").hidden = !msg;
  $("banner-text").textContent = msg || "";
}

const themes = ["auto", "light", "dark"];
function applyTheme(t) {
  if (t === "auto") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = t;
  $("theme-btn").setAttribute("aria-label", "Theme: " + (t === "auto" ? "automatic" : t) + " (change)");
  $("theme-btn").title = "Theme: " + t;
}

function loadSettings() {
  $("api-key").value = store.get("key", "");
  const s = store.get("scope", {});
  $("tenant").value = s.tenant || "";
  $("principals").value = (s.principals || []).join(", ");
}

function saveSettings() {
  store.set("key", $("api-key").value.trim());
  const principals = $("principals").value.split(",").map((p) => p.trim()).filter(Boolean);
  store.set("scope", { tenant: $("tenant").value.trim(), principals });
  showError("");
  loadCollections();
}

const views = ["chat", "doc", "debug", "collections", "metrics", "eval"];
let currentView = "";

function route() {
  const h = location.hash.replace(/^#\/?/, "");
  const [name, query] = h.split("?");
  const view = views.includes(name) ? name : "chat";
  const params = new URLSearchParams(query || "");
  for (const v of views) $("view-" + v).hidden = v !== view;
  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.view === view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const changed = currentView !== view;
  currentView = view;
  if (view !== "metrics") stopMetrics();
  if (view === "doc") openDocument(params);
  else if (view === "collections") loadCollectionTable();
  else if (view === "metrics") startMetrics();
  else if (view === "eval") openEval();
  else if (view === "chat") renderThread();
  if (changed && view !== "doc") {
    const h1 = document.querySelector("#view-" + view + " h1");
    if (h1 && document.activeElement !== document.body && !$("view-" + view).contains(document.activeElement)) h1.focus();
  }
}

let firstLoad = true;

async function loadCollections() {
  try {
    const { collections } = await api("GET", "/v1/collections");
    const sel = $("collection");
    // ?collection= picks the collection on the first load only.
    const fromURL = firstLoad ? new URLSearchParams(location.search).get("collection") : "";
    firstLoad = false;
    const want = fromURL || sel.value || store.get("collection", "");
    sel.replaceChildren(...collections.map((c) => el("option", { value: c }, c)));
    if (want && collections.includes(want)) sel.value = want;
    store.set("collection", sel.value);
    return collections;
  } catch (e) {
    showError("Loading collections failed: " + e.message);
    if (e.status === 401 && $("settings").hidden) $("settings-btn").click(); // show the key field
    return [];
  }
}

// ---- text helpers ----------------------------------------------------------

function snippet(text, n) {
  const cps = Array.from(text);
  return cps.length <= n ? text : cps.slice(0, n).join("") + "…";
}

// spans renders text (a code point array) with [start, end) ranges wrapped
// in <mark>s; ranges are clipped to the text and may not overlap.
function spans(cps, ranges, markAttrs) {
  const out = [];
  let pos = 0;
  for (const r of [...ranges].sort((a, b) => a.start - b.start)) {
    const start = Math.max(pos, Math.min(r.start, cps.length));
    const end = Math.max(start, Math.min(r.end, cps.length));
    if (start > pos) out.push(cps.slice(pos, start).join(""));
    out.push(el("mark", markAttrs ? markAttrs(r) : {}, cps.slice(start, end).join("")));
    pos = end;
  }
  if (pos < cps.length) out.push(cps.slice(pos).join(""));
  return out;
}

// terms are the words of a query, for highlighting matches.
function terms(q) {
  return [...new Set(q.toLowerCase().match(/[\p{L}\p{N}]{2,}/gu) || [])];
}

function termRanges(text, ts) {
  if (!ts.length) return [];
  const cps = Array.from(text);
  const lower = cps.map((c) => c.toLowerCase());
  const out = [];
  const isWord = (c) => c !== undefined && /[\p{L}\p{N}]/u.test(c);
  for (let i = 0; i < lower.length; i++) {
    if (isWord(lower[i - 1])) continue;
    for (const t of ts) {
      const tc = Array.from(t);
      let ok = true;
      for (let j = 0; j < tc.length && ok; j++) ok = lower[i + j] === tc[j];
      if (ok) {
        let e = i + tc.length;
        while (isWord(lower[e])) e++; // stem: "forms" matches "form"
        out.push({ start: i, end: e });
        i = e - 1;
        break;
      }
    }
  }
  return out;
}

function fmtMs(x) {
  return x === undefined || x === null ? "–" : x < 10 ? x.toFixed(1) + " ms" : Math.round(x) + " ms";
}

function fmtBytes(n) {
  if (!n && n !== 0) return "–";
  const u = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return (i ? n.toFixed(1) : n) + " " + u[i];
}

function docLink(col, c, backTo) {
  const p = new URLSearchParams({ c: col, id: c.doc_id });
  if (c.start !== undefined) p.set("s", c.start);
  if (c.end !== undefined) p.set("e", c.end);
  if (c.marker) p.set("m", c.marker);
  if (backTo) p.set("back", backTo);
  return "#/doc?" + p.toString();
}

// ---- chat ------------------------------------------------------------------

const maxTurns = 25; // 50 history messages, the API's limit
let running = null; // AbortController of the answer being streamed

function threadKey() {
  return "thread." + currentCollection();
}

function loadThread() {
  return store.get(threadKey(), []);
}

function saveThread(turns) {
  // Keep the stored thread small (session storage holds a few MB): an
  // uncited source is redrawn as a one-line snippet, so only that is kept.
  const slim = turns.slice(-maxTurns).map((t) => {
    if (!t.answer || !t.answer.sources) return t;
    const cited = new Set((t.answer.citations || []).map((c) => c.chunk_id));
    const sources = t.answer.sources.map((h) => (cited.has(h.chunk_id) ? h : { ...h, text: snippet(h.text, 160) }));
    return { ...t, answer: { ...t.answer, sources } };
  });
  store.set(threadKey(), slim);
}

function historyOf(turns) {
  const msgs = [];
  let bytes = 0;
  for (const t of turns.slice().reverse()) {
    if (!t.answer || t.error) continue;
    const pair = [
      { role: "user", content: t.question },
      { role: "assistant", content: t.answer.answer },
    ];
    bytes += new Blob([t.question, t.answer.answer]).size;
    if (bytes > 60 << 10 || msgs.length >= 48) break;
    msgs.unshift(...pair);
  }
  return msgs;
}

function renderThread() {
  const turns = loadThread();
  $("thread").replaceChildren(...turns.map((t, i) => turnView(t, i)));
  $("chat-empty").hidden = turns.length > 0;
}

// citedCards groups an answer's citations by marker: card n is citation n.
function citedCards(ans) {
  const byMarker = new Map();
  for (const c of ans.citations || []) {
    if (!byMarker.has(c.marker)) byMarker.set(c.marker, []);
    byMarker.get(c.marker).push(c);
  }
  const bySource = new Map((ans.sources || []).map((h) => [h.chunk_id, h]));
  return [...byMarker.keys()].sort((a, b) => a - b).map((m) => ({ marker: m, cites: byMarker.get(m), hit: bySource.get(byMarker.get(m)[0].chunk_id) }));
}

function answerNodes(text, ans, col, idx) {
  const known = new Map();
  for (const c of ans.citations || []) if (!known.has(String(c.marker))) known.set(String(c.marker), c);
  const parts = text.split(/\[(\d+)\]/);
  return parts.map((p, i) => {
    if (i % 2 === 0) return p;
    const c = known.get(p);
    if (!c) return "[" + p + "]";
    return el("a", {
      class: "cite", href: docLink(col, c, "chat"), "data-marker": p,
      "aria-label": "Citation " + p + ": open " + (c.title || c.doc_id) + " at the cited passage",
      title: "Open the cited passage in " + (c.title || c.doc_id),
    }, "[" + p + "]");
  });
}

function badge(kind, text, title) {
  return el("span", { class: "badge " + kind, title }, text);
}

function turnView(t, idx) {
  const li = el("li", { class: "turn", "data-turn": idx });
  li.append(el("div", { class: "q", dir: "auto" }, el("span", { class: "sr-only" }, "You asked: "), t.question));
  const a = el("div", { class: "a" });
  li.append(a);
  if (t.error) {
    a.append(el("p", { class: "error-text", role: "alert" }, t.error));
    if (t.partial) a.append(el("p", { class: "answer-text", dir: "auto" }, t.partial));
    return li;
  }
  const ans = t.answer;
  if (!ans) return li;
  a.append(el("p", { class: "answer-text", dir: "auto" }, ...answerNodes(ans.answer, ans, t.collection, idx)));
  a.append(statusLine(ans));
  const cards = citedCards(ans);
  if (cards.length) {
    a.append(el("h3", { class: "small" }, "Cited sources"));
    a.append(el("ol", { class: "cards" }, ...cards.map((c) => sourceCard(c, t.collection, t.scoreKind))));
  }
  const cited = new Set((ans.citations || []).map((c) => c.chunk_id));
  const others = (ans.sources || []).filter((h) => !cited.has(h.chunk_id));
  if (others.length && !ans.abstained) {
    a.append(el("details", { class: "others" },
      el("summary", {}, "Other retrieved passages (" + others.length + ", not cited)"),
      el("ul", { class: "plain" }, ...others.map((h) => el("li", {},
        el("a", { href: docLink(t.collection, { doc_id: h.doc_id, start: h.start, end: h.end }, "chat"), dir: "auto" }, h.title || h.doc_id),
        el("span", { class: "meta" }, " · " + snippet(h.text, 140)))))));
  }
  a.append(timingsView(ans));
  a.append(feedbackView(t, idx));
  return li;
}

function statusLine(ans) {
  const row = el("p", { class: "status-line" });
  if (ans.abstained) {
    row.append(badge("warn", "No answer found", "Quarry abstained: nothing relevant was retrieved, or the model said the sources lack the answer."));
  } else if (ans.grounded) {
    row.append(badge("ok", "Grounded", "Every citation was checked against the retrieved passages."));
  } else {
    row.append(badge("bad", "Not grounded", "The answer cites no retrieved passage: treat it with care."));
  }
  if (ans.invalid_citations && ans.invalid_citations.length) {
    row.append(badge("bad", ans.invalid_citations.length + " invalid citation(s) removed", "Markers the model wrote that named no source: " + ans.invalid_citations.join(", ")));
  }
  if (ans.cached) row.append(badge("info", "cached (" + ans.cached + ")", "Served from the answer cache"));
  row.append(el("span", { class: "meta" }, " " + ans.method + (ans.model ? " · " + ans.model : "")));
  if (ans.query) row.append(el("span", { class: "meta", dir: "auto" }, " · searched for: " + ans.query));
  return row;
}

const cardContext = 240; // characters shown around a cited span

function sourceCard(card, col, kind) {
  const h = card.hit;
  const c0 = card.cites[0];
  const title = (h && h.title) || c0.title || c0.doc_id;
  let body;
  if (h) {
    // The cited spans with some context around them, not the whole chunk.
    const all = Array.from(h.text);
    const ranges = card.cites.map((c) => ({ start: c.start - h.start, end: c.end - h.start }));
    const from = Math.max(0, Math.min(...ranges.map((r) => r.start)) - cardContext);
    const to = Math.min(all.length, Math.max(...ranges.map((r) => r.end)) + cardContext);
    body = spans(all.slice(from, to), ranges.map((r) => ({ start: r.start - from, end: r.end - from })), () => ({ class: "cited" }));
    if (from > 0) body.unshift("…");
    if (to < all.length) body.push("…");
  } else {
    body = [el("mark", { class: "cited" }, c0.text)];
  }
  return el("li", { class: "card", value: card.marker, "data-marker": card.marker },
    el("div", { class: "card-head" },
      el("span", { class: "num", "aria-hidden": "true" }, "[" + card.marker + "]"),
      el("a", { href: docLink(col, c0, "chat"), class: "title", dir: "auto" }, title),
      h ? el("span", { class: "score", title: scoreHelp[kind] || "Retrieval score of this passage" }, h.score.toFixed(3)) : null),
    el("div", { class: "meta", dir: "auto" }, c0.doc_id + (h && h.section ? " · " + h.section : "")),
    el("p", { class: "text", dir: "auto" }, ...body));
}

function timingsView(ans) {
  const t = ans.timings || {};
  const rows = [
    ["Retrieval", t.retrieve_ms], ["Rewrite", t.rewrite_ms], ["Rerank", t.rerank_ms],
    ["First token", t.ttft_ms], ["Model's first token", t.llm_ttft_ms], ["Generation", t.generate_ms], ["Total", t.total_ms || ans.took_ms],
  ].filter(([, v]) => v !== undefined && v !== null && !(v === 0 && false));
  const dl = el("dl", { class: "timings" });
  for (const [k, v] of rows) dl.append(el("dt", {}, k), el("dd", {}, fmtMs(v)));
  if (ans.usage) dl.append(el("dt", {}, "Tokens"), el("dd", {}, ans.usage.prompt_tokens + " prompt · " + ans.usage.completion_tokens + " answer"));
  return el("details", { class: "timing-box" }, el("summary", {}, "Timings"), dl);
}

function feedbackView(t, idx) {
  const box = el("div", { class: "feedback" });
  const status = el("span", { class: "meta", role: "status" });
  const comment = el("input", { type: "text", maxlength: "2000", "aria-label": "Optional comment on this answer", placeholder: "Optional comment" });
  const send = async (rating) => {
    const ans = t.answer;
    const pick = (h) => ({ doc_id: h.doc_id, chunk_id: h.chunk_id, title: snippet(h.title || "", 200), score: h.score, start: h.start, end: h.end });
    try {
      await api("POST", "/v1/feedback", {
        collection: t.collection, question: t.question, answer: ans.answer, rating, comment: comment.value.trim(),
        method: ans.method, model: ans.model || "", grounded: !!ans.grounded, abstained: !!ans.abstained,
        sources: (ans.sources || []).slice(0, 100).map(pick),
        citations: (ans.citations || []).slice(0, 100).map((c) => ({ marker: c.marker, doc_id: c.doc_id, chunk_id: c.chunk_id, start: c.start, end: c.end })),
      });
      status.textContent = "Thanks: feedback saved.";
      const turns = loadThread();
      if (turns[idx]) {
        turns[idx].rated = rating;
        saveThread(turns);
      }
      for (const b of box.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.rating === rating));
    } catch (e) {
      status.textContent = "Feedback not saved: " + e.message;
    }
  };
  const up = el("button", { type: "button", class: "thumb", "data-rating": "up", "aria-label": "Good answer", "aria-pressed": String(t.rated === "up"), onclick: () => send("up") }, "👍");
  const down = el("button", { type: "button", class: "thumb", "data-rating": "down", "aria-label": "Bad answer", "aria-pressed": String(t.rated === "down"), onclick: () => send("down") }, "👎");
  box.append(up, down, comment, status);
  return box;
}

// scoreKindOf says what a source's score means for an answer retrieved
// from col in mode (the collection's default when ""): the key of scoreHelp.
const colInfo = new Map();
async function scoreKindOf(col, mode) {
  if (!colInfo.has(col)) {
    try {
      colInfo.set(col, (await api("GET", colPath(col))).config || {});
    } catch {
      return "";
    }
  }
  const cfg = colInfo.get(col);
  if (cfg.reranker) return "rerank";
  if (mode === "bm25" || mode === "dense") return mode;
  return cfg.embedding ? "rrf" : "bm25";
}

// ask streams one answer into a new turn at the end of the thread.
async function ask(question) {
  const col = currentCollection();
  if (!col) {
    showError("Choose a collection first (none exists yet: see Collections).");
    return;
  }
  const prior = loadThread();
  const body = { question, ...scope() };
  const hist = historyOf(prior);
  if (hist.length) body.history = hist;
  if ($("ask-mode").value) body.mode = $("ask-mode").value;
  if ($("ask-k").value) body.k = Number($("ask-k").value);
  if ($("ask-method").value) body.method = $("ask-method").value;

  $("chat-empty").hidden = true;
  const li = el("li", { class: "turn streaming" },
    el("div", { class: "q", dir: "auto" }, el("span", { class: "sr-only" }, "You asked: "), question));
  const a = el("div", { class: "a" });
  const textNode = document.createTextNode("");
  const p = el("p", { class: "answer-text", dir: "auto", "aria-live": "polite" }, textNode);
  const info = el("p", { class: "meta", role: "status" }, "Searching…");
  a.append(info, p);
  li.append(a);
  $("thread").append(li);
  li.scrollIntoView({ block: "end" });
  $("ask-btn").disabled = true;
  $("stop-btn").hidden = false;
  showError("");
  running = new AbortController();
  const turn = { question, collection: col };
  const kind = scoreKindOf(col, body.mode); // in parallel with the answer
  let final = null;
  let failure = null;
  try {
    const finished = await askStream(colPath(col, "/ask"), body, (name, data) => {
      if (name === "retrieval") {
        info.textContent = "Found " + data.sources.length + " passage(s); writing the answer…";
      } else if (name === "token") {
        if (!textNode.length) {
          // "visible": the frame holding the first token has been drawn.
          performance.mark("quarry-first-token");
          requestAnimationFrame(() => setTimeout(() => performance.mark("quarry-first-token-painted"), 0));
        }
        textNode.appendData(data.text);
      } else if (name === "done") {
        final = data;
      } else if (name === "error") {
        failure = (data.error && data.error.message) || "the answer failed";
      }
    }, running.signal);
    if (!finished && !final && !failure) failure = "The connection to the server was lost before the answer finished; what arrived is shown below. Ask again to retry.";
  } catch (e) {
    failure = e.name === "AbortError" ? "Stopped." : e.message || String(e);
    if (e.name === "TypeError" || (e.name !== "AbortError" && !(e instanceof APIError))) {
      failure = "The connection to the server was lost before the answer finished (" + e.message + "); what arrived is shown below. Ask again to retry.";
    }
  }
  running = null;
  $("ask-btn").disabled = false;
  $("stop-btn").hidden = true;
  turn.scoreKind = await kind;
  if (final) turn.answer = final;
  else {
    turn.error = failure;
    turn.partial = snippet(textNode.data, 20000);
  }
  const turns = loadThread();
  turns.push(turn);
  saveThread(turns);
  const view = turnView(turn, turns.length - 1);
  li.replaceWith(view);
  if (failure) showError(failure);
  $("chat-status").textContent = final ? "Answered in " + fmtMs(final.took_ms) : "";
}

// ---- document viewer ------------------------------------------------------

let docBack = "chat";

async function openDocument(params) {
  const col = params.get("c") || currentCollection();
  const id = params.get("id");
  const s = params.has("s") ? Number(params.get("s")) : null;
  const e = params.has("e") ? Number(params.get("e")) : null;
  docBack = params.get("back") || "chat";
  $("doc-title").textContent = "Loading…";
  $("doc-meta").replaceChildren();
  $("doc-text").replaceChildren();
  $("doc-span-info").textContent = "";
  if (!id) {
    $("doc-title").textContent = "No document selected";
    return;
  }
  const q = new URLSearchParams({ chunks: "true" });
  const sc = scope();
  if (sc.tenant) q.set("tenant", sc.tenant);
  for (const p of sc.principals || []) q.append("principal", p);
  let d;
  try {
    d = await api("GET", colPath(col, "/documents/" + encodeURIComponent(id)) + "?" + q.toString());
  } catch (err) {
    $("doc-title").textContent = "Document unavailable";
    $("doc-text").replaceChildren(el("p", { class: "error-text", role: "alert" }, err.message));
    return;
  }
  $("doc-title").textContent = d.title || d.id;
  const meta = [["Collection", col], ["Id", d.id], ["Source", d.source], ["Language", d.language], ["Version", d.version],
    ["Updated", d.updated], ["Chunks", (d.chunks || []).length]];
  if (d.tenant) meta.push(["Tenant", d.tenant]);
  if (d.acl && d.acl.length) meta.push(["ACL", d.acl.join(", ")]);
  for (const [k, v] of Object.entries(d.metadata || {})) meta.push(["meta." + k, typeof v === "object" ? JSON.stringify(v) : String(v)]);
  $("doc-meta").replaceChildren(...meta.filter(([, v]) => v !== "" && v !== undefined).flatMap(([k, v]) => [el("dt", {}, k), el("dd", { dir: "auto" }, String(v))]));
  const render = () => renderDocText(d, s, e, params.get("m"));
  $("show-chunks").onchange = render;
  render();
}

function renderDocText(d, s, e, marker) {
  const cps = Array.from(d.text);
  const showChunks = $("show-chunks").checked;
  const chunks = d.chunks || [];
  const cuts = new Set([0, cps.length]);
  if (showChunks) for (const c of chunks) cuts.add(Math.min(c.start, cps.length));
  const hasSpan = s !== null && e !== null && s >= 0 && e > s && s < cps.length;
  if (hasSpan) {
    cuts.add(s);
    cuts.add(Math.min(e, cps.length));
  }
  const points = [...cuts].sort((a, b) => a - b);
  const out = [];
  let chunkIdx = -1;
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i];
    const b = points[i + 1];
    if (showChunks) {
      for (let j = 0; j < chunks.length; j++) {
        if (chunks[j].start === a && j > chunkIdx) {
          chunkIdx = j;
          out.push(el("span", { class: "chunk-label", "aria-label": "Chunk " + chunks[j].ordinal + " starts" }, "§" + chunks[j].ordinal));
        }
      }
    }
    const text = cps.slice(a, b).join("");
    let node;
    if (hasSpan && a >= s && b <= e) node = el("mark", { class: "span", "data-marker": marker || "" }, text);
    else node = document.createTextNode(text);
    if (showChunks) node = el("span", { class: "chunk c" + (Math.max(chunkIdx, 0) % 2) }, node);
    out.push(node);
  }
  $("doc-text").replaceChildren(...out);
  const first = $("doc-text").querySelector("mark.span");
  if (first) {
    first.id = "cited-span";
    first.tabIndex = -1;
    first.scrollIntoView({ block: "center" });
    first.focus({ preventScroll: true });
    $("doc-span-info").textContent = (marker ? "Citation [" + marker + "]: " : "Highlighted: ") + "characters " + s + "–" + e;
  } else {
    $("doc-title").focus();
  }
}

// ---- search debugger -------------------------------------------------------

const scoreHelp = {
  bm25: "BM25 score: Okapi BM25 of the query terms in this chunk (higher is better; not comparable across queries).",
  dense: "Cosine similarity between the query's and the chunk's embeddings (−1 to 1).",
  rrf: "RRF score: Σ 1/(rrf_k + rank) over the BM25 and dense lists. Only the order matters, not the size.",
  weighted: "Weighted fusion: alpha·dense + (1−alpha)·BM25 on min–max normalised scores (0 to 1).",
  rerank: "Cross-encoder relevance score from the collection's reranker.",
};

async function runDebug() {
  const col = currentCollection();
  const q = $("debug-query").value.trim();
  if (!col || !q) return;
  const base = { query: q, k: Number($("debug-k").value) || 10, ...scope() };
  if ($("debug-ef").value) base.ef = Number($("debug-ef").value);
  const fusion = $("debug-fusion").value;
  const hybrid = { ...base, mode: "hybrid", fusion };
  if ($("debug-rrfk").value && fusion === "rrf") hybrid.rrf_k = Number($("debug-rrfk").value);
  if ($("debug-alpha").value && fusion === "weighted") hybrid.alpha = Number($("debug-alpha").value);
  $("debug-status").textContent = "Searching…";
  showError("");
  let info = null;
  try {
    info = await api("GET", colPath(col));
  } catch (e) {
    $("debug-status").textContent = "";
    showError(e.message);
    return;
  }
  const reranker = info.config && info.config.reranker;
  // Each list before reranking; with a reranker, a fourth list after it.
  // cmp is the list whose ranks the movement arrows compare with.
  const nr = reranker ? { no_rerank: true } : {};
  const cols = [
    { key: "bm25", title: "BM25", body: { ...base, mode: "bm25", ...nr }, help: scoreHelp.bm25 },
    { key: "dense", title: "Dense", body: { ...base, mode: "dense", ...nr }, help: scoreHelp.dense, cmp: 0 },
    { key: "fused", title: "Fused (" + fusion + ")", body: { ...hybrid, ...nr }, help: scoreHelp[fusion], cmp: 0 },
  ];
  if (reranker) cols.push({ key: "rerank", title: "Reranked", body: hybrid, help: scoreHelp.rerank + " (" + reranker + ")", cmp: 2 });
  const results = await Promise.all(cols.map((c) =>
    api("POST", colPath(col, "/search"), c.body).then((r) => ({ ...c, res: r }), (e) => ({ ...c, err: e }))));
  const ts = terms(q);
  const rankIn = (r) => new Map((r && r.res ? r.res.results : []).map((h, i) => [h.chunk_id, i + 1]));
  const ranks = results.map(rankIn);
  const colsEl = results.map((r, i) => {
    const head = el("h2", {}, r.title);
    if (r.err) {
      return el("section", { class: "col", "aria-label": r.title }, head, el("p", { class: "error-text" }, "Not available: " + r.err.message));
    }
    const prev = r.cmp === undefined ? null : ranks[r.cmp];
    const prevName = r.cmp === undefined ? "" : results[r.cmp].title;
    const list = el("ol", { class: "dbg-list" });
    r.res.results.forEach((h, j) => {
      let move = "";
      let moveTitle = "";
      if (prev) {
        const before = prev.get(h.chunk_id);
        if (!before) {
          move = "new";
          moveTitle = "Not in the " + prevName + " list";
        } else if (before !== j + 1) {
          move = (before > j + 1 ? "▲" : "▼") + Math.abs(before - (j + 1));
          moveTitle = "Rank " + before + " in " + prevName;
        } else {
          move = "=";
          moveTitle = "Same rank as in " + prevName;
        }
      }
      const inOthers = results.filter((o, k) => k !== i && ranks[k].has(h.chunk_id)).map((o, k2) => o.title + " #" + ranks[results.indexOf(o)].get(h.chunk_id));
      list.append(el("li", { "data-chunk": h.chunk_id },
        el("div", { class: "card-head" },
          el("a", { href: docLink(col, { doc_id: h.doc_id, start: h.start, end: h.end }, "debug"), class: "title", dir: "auto" }, h.title || h.doc_id),
          el("span", { class: "score", title: r.help, tabindex: "0", "aria-label": "score " + h.score.toFixed(4) + ". " + r.help }, h.score.toFixed(4)),
          move ? el("span", { class: "move " + (move[0] === "▲" ? "up" : move[0] === "▼" ? "down" : ""), title: moveTitle }, move) : null),
        el("div", { class: "meta" }, h.chunk_id + (inOthers.length ? " · also " + inOthers.join(", ") : "")),
        el("p", { class: "text", dir: "auto" }, ...spans(Array.from(snippet(h.text, 260)), termRanges(snippet(h.text, 260), ts), () => ({ class: "term" })))));
    });
    return el("section", { class: "col", "aria-label": r.title }, head,
      el("p", { class: "meta" }, "mode " + r.res.mode + " · " + r.res.results.length + " results · " + fmtMs(r.res.took_ms)),
      list);
  });
  $("debug-cols").replaceChildren(...colsEl);
  const v = info.config.vector || {};
  const settings = [["collection", col], ["fusion", fusion], ["k", base.k], ["rrf_k", hybrid.rrf_k || (fusion === "rrf" ? "60 (default)" : "–")],
    ["alpha", hybrid.alpha !== undefined ? hybrid.alpha : fusion === "weighted" ? "0.5 (default)" : "–"],
    ["ef", base.ef || (v.index === "ivf" ? "nprobe " + (v.nprobe || "default") : "ef_search " + (v.ef_search || "default"))],
    ["embedding", info.config.embedding || "none"], ["vector index", v.index || "–"], ["reranker", reranker || "none"]];
  $("debug-settings").replaceChildren(el("dl", { class: "settings" }, ...settings.flatMap(([k, val]) => [el("dt", {}, k), el("dd", {}, String(val))])),
    reranker ? "" : el("p", { class: "meta" }, "No reranker is configured for this collection, so the fused list is the final one."));
  $("debug-curl").textContent = curlFor(colPath(col, "/search"), cols[cols.length - 1].body);
  $("debug-curl-box").hidden = false;
  $("debug-status").textContent = "Compared " + results.filter((r) => r.res).length + " lists.";
}

function shellQuote(s) {
  return "'" + String(s).replace(/'/g, "'\\''") + "'";
}

function curlFor(path, body) {
  let cmd = "curl -sS " + shellQuote(location.origin + path) + " \\\n  -H 'Content-Type: application/json'";
  if (store.get("key", "")) cmd += " \\\n  -H \"Authorization: Bearer $QUARRY_API_KEY\"";
  return cmd + " \\\n  -d " + shellQuote(JSON.stringify(body));
}

// ---- collections and upload -------------------------------------------------

const notThere = (e) => e instanceof APIError && (e.status === 404 || e.status === 405) && (e.code === "method_not_allowed" || /no route/.test(e.message));

async function loadCollectionTable() {
  const names = await loadCollections();
  $("col-empty").hidden = names.length > 0;
  const rows = await Promise.all(names.map((n) => api("GET", colPath(n)).catch((e) => ({ name: n, err: e }))));
  $("col-table").tBodies[0].replaceChildren(...rows.map((c) => {
    if (c.err) return el("tr", {}, el("th", { scope: "row" }, c.name), el("td", { colspan: "7", class: "error-text" }, c.err.message));
    const s = c.stats || {};
    const v = (c.config && c.config.vector) || {};
    return el("tr", { "data-collection": c.name },
      el("th", { scope: "row" }, c.name),
      el("td", { class: "num" }, String(s.documents ?? "–")), el("td", { class: "num" }, String(s.chunks ?? "–")),
      el("td", {}, (c.config && c.config.embedding) || "none"),
      el("td", {}, c.config && c.config.embedding ? (v.index || "") + (v.quantization ? " " + v.quantization : "") : "–"),
      el("td", { class: "num" }, String(s.vectors ?? 0)), el("td", { class: "num" }, fmtBytes(s.disk_bytes)),
      el("td", { class: "actions" },
        el("button", { type: "button", onclick: () => { selectCollection(c.name); location.hash = "#/chat"; } , "aria-label": "Chat with " + c.name }, "Chat"),
        el("button", { type: "button", class: "danger", onclick: () => confirmDelete(c.name), "aria-label": "Delete " + c.name }, "Delete")));
  }));
}

function selectCollection(name) {
  $("collection").value = name;
  store.set("collection", name);
}

function confirmDelete(name) {
  const dlg = $("confirm-delete");
  $("confirm-name").textContent = name;
  $("confirm-input").value = "";
  $("confirm-ok").disabled = true;
  $("confirm-input").oninput = () => ($("confirm-ok").disabled = $("confirm-input").value !== name);
  dlg.onclose = async () => {
    if (dlg.returnValue !== "ok") return;
    try {
      await api("DELETE", colPath(name));
      colInfo.delete(name);
      $("create-status").textContent = "Deleted " + name + ".";
      store.del("thread." + name);
      await loadCollectionTable();
    } catch (e) {
      showError(notThere(e) ? "This server cannot delete collections yet (DELETE " + colPath(name) + " answered " + e.status + "). Update Quarry to a version with collection management." : "Deleting " + name + " failed: " + e.message);
    }
  };
  dlg.showModal();
  $("confirm-input").focus();
}

async function createCollection() {
  const name = $("new-name").value.trim();
  const cfg = {};
  const num = (id) => ($(id).value ? Number($(id).value) : undefined);
  if ($("new-embedding").value.trim()) {
    cfg.embedding = $("new-embedding").value.trim();
    const v = { index: $("new-index").value };
    if ($("new-quant").value) v.quantization = $("new-quant").value;
    if (v.index === "hnsw") {
      if (num("new-m")) v.m = num("new-m");
      if (num("new-efc")) v.ef_construction = num("new-efc");
      if (num("new-efs")) v.ef_search = num("new-efs");
    }
    if (v.index === "flat") delete v.quantization;
    cfg.vector = v;
  }
  if (num("new-chunk")) cfg.chunking = { size: num("new-chunk") };
  $("create-status").textContent = "Creating…";
  try {
    const r = await api("PUT", colPath(name), cfg);
    $("create-status").textContent = r.created ? "Created " + name + "." : name + " already exists with these settings.";
    await loadCollectionTable();
    selectCollection(name);
  } catch (e) {
    $("create-status").textContent = "";
    showError("Creating " + name + " failed: " + e.message);
  }
}

async function patchCollection() {
  const col = currentCollection();
  const body = {};
  const v = {};
  if ($("patch-efs").value) v.ef_search = Number($("patch-efs").value);
  if ($("patch-nprobe").value) v.nprobe = Number($("patch-nprobe").value);
  if (Object.keys(v).length) body.vector = v;
  if ($("patch-reranker").value.trim()) body.reranker = $("patch-reranker").value.trim();
  if (!col || !Object.keys(body).length) {
    $("patch-status").textContent = "Nothing to change.";
    return;
  }
  $("patch-status").textContent = "Applying…";
  try {
    await api("PATCH", colPath(col), body);
    colInfo.delete(col);
    $("patch-status").textContent = "Updated " + col + ".";
    await loadCollectionTable();
  } catch (e) {
    $("patch-status").textContent = notThere(e)
      ? "This server cannot change collection settings yet (PATCH " + colPath(col) + " answered " + e.status + ")."
      : "Not changed: " + e.message;
  }
}

// upload sends one file as multipart/form-data with progress, through
// XMLHttpRequest (fetch cannot report upload progress).
function uploadOne(col, file) {
  const bar = el("progress", { max: "100", value: "0", "aria-label": "Upload progress of " + file.name });
  const status = el("span", { class: "meta" }, "waiting");
  const li = el("li", {}, el("span", { class: "fname", dir: "auto" }, file.name), el("span", { class: "meta" }, fmtBytes(file.size)), bar, status);
  $("uploads").append(li);
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", colPath(col, "/files"));
    const key = store.get("key", "");
    if (key) xhr.setRequestHeader("Authorization", "Bearer " + key);
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable) bar.value = Math.round((100 * ev.loaded) / ev.total);
      status.textContent = "uploading";
    };
    const fail = (msg) => {
      li.classList.add("failed");
      status.textContent = msg;
      status.setAttribute("role", "alert");
      resolve(false);
    };
    xhr.onerror = () => fail("failed: the connection was lost");
    xhr.onload = () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {}
      if (xhr.status >= 200 && xhr.status < 300) {
        bar.value = 100;
        const r = data && (data.results || data.files);
        const one = Array.isArray(r) ? r[0] : data;
        if (one && (one.error || one.status === "skipped" || one.status === "failed")) {
          fail("not added: " + ((one.error && (one.error.message || one.error)) || one.reason || one.status));
          return;
        }
        if (data && data.error) {
          fail("failed: " + data.error.message);
          return;
        }
        const counts = [];
        if (one && one.documents !== undefined) counts.push(one.documents + " document(s)");
        if (one && one.created) counts.push(one.created + " new");
        if (one && one.updated) counts.push(one.updated + " updated");
        if (one && one.unchanged) counts.push(one.unchanged + " unchanged");
        if (one && one.chunks !== undefined) counts.push(one.chunks + " chunks");
        if (one && one.status) counts.unshift(one.status);
        status.textContent = "added" + (counts.length ? " (" + counts.join(", ") + ")" : "");
        li.classList.add("done");
        resolve(true);
        return;
      }
      if (xhr.status === 404 || xhr.status === 405) {
        const code = data && data.error && data.error.code;
        if (code !== "not_found" || /no route/.test((data && data.error && data.error.message) || "")) {
          fail("This server does not accept file uploads yet (POST …/files answered " + xhr.status + "). Use quarry ingest, or update Quarry.");
          return;
        }
      }
      fail("failed: " + describe(xhr.status, data, xhr.statusText));
    };
    const form = new FormData();
    const sc = scope();
    if (sc.tenant) form.append("tenant", sc.tenant); // fields go before the files
    form.append("files", file, file.name);
    status.textContent = "uploading";
    xhr.send(form);
  });
}

async function uploadFiles(files) {
  const col = currentCollection();
  if (!col) {
    showError("Choose or create a collection before uploading.");
    return;
  }
  const list = [...files];
  // Two at a time: parallel enough, without flooding the server.
  let next = 0;
  const worker = async () => {
    while (next < list.length) await uploadOne(col, list[next++]);
  };
  await Promise.all([worker(), worker()]);
  loadCollectionTable();
}

let docCursor = "";
async function listDocuments(more) {
  const col = currentCollection();
  if (!col) return;
  if (!more) {
    docCursor = "";
    $("doc-list").replaceChildren();
  }
  const q = new URLSearchParams({ limit: "50" });
  if (docCursor) q.set("after", docCursor);
  const sc = scope();
  if (sc.tenant) q.set("tenant", sc.tenant);
  for (const p of sc.principals || []) q.append("principal", p);
  $("docs-status").textContent = "Loading…";
  try {
    const r = await api("GET", colPath(col, "/documents") + "?" + q.toString());
    const docs = r.documents || r.results || [];
    for (const d of docs) {
      $("doc-list").append(el("li", {}, el("a", { href: docLink(col, { doc_id: d.id }, "collections"), dir: "auto" }, d.title || d.id), el("span", { class: "meta" }, " " + d.id)));
    }
    docCursor = r.next || "";
    $("docs-more").hidden = !docCursor;
    $("docs-status").textContent = $("doc-list").children.length + " document(s) listed.";
  } catch (e) {
    $("docs-more").hidden = true;
    $("docs-status").textContent = notThere(e) || e.status === 400 || e.status === 307
      ? "This server cannot list documents yet (GET …/documents answered " + e.status + ")."
      : "Listing failed: " + e.message;
  }
}

// ---- metrics ------------------------------------------------------------------

const metricsEvery = 5000;
const metricsKeep = 720; // one hour at 5 s
let metricsTimer = null;
let lastScrape = null;
const samples = [];

// parseProm reads the Prometheus text format into {name: [{labels, value}]}.
function parseProm(text) {
  const out = new Map();
  for (const line of text.split("\n")) {
    if (!line || line[0] === "#") continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    if (m[3]) for (const lm of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]] = lm[2];
    if (!out.has(m[1])) out.set(m[1], []);
    out.get(m[1]).push({ labels, value: Number(m[4]) });
  }
  return out;
}

function sumOf(p, name, pred) {
  return (p.get(name) || []).filter((s) => !pred || pred(s.labels)).reduce((a, s) => a + s.value, 0);
}

// buckets sums a histogram's cumulative buckets across series: {le: count}.
function buckets(p, name, pred) {
  const b = new Map();
  for (const s of p.get(name + "_bucket") || []) {
    if (pred && !pred(s.labels)) continue;
    const le = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
    b.set(le, (b.get(le) || 0) + s.value);
  }
  return b;
}

// quantile of the observations between two bucket snapshots.
function quantile(now, before, q) {
  const les = [...now.keys()].sort((a, b) => a - b);
  const counts = les.map((le) => now.get(le) - ((before && before.get(le)) || 0));
  const total = counts[counts.length - 1];
  if (!total || total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < les.length; i++) {
    if (counts[i] >= rank) {
      const lo = i ? les[i - 1] : 0;
      const hi = les[i] === Infinity ? lo : les[i];
      const below = i ? counts[i - 1] : 0;
      const inB = counts[i] - below;
      return lo + (hi - lo) * (inB ? (rank - below) / inB : 0);
    }
  }
  return null;
}

const apiRoute = (l) => l.route && l.route.startsWith("/v1/");

async function scrape() {
  let text;
  try {
    const res = await fetch("/metrics", { headers: authHeaders({}) });
    if (!res.ok) throw await errorFrom(res);
    text = await res.text();
  } catch (e) {
    $("metrics-status").textContent = "Reading /metrics failed: " + e.message;
    if (e.status === 401 || e.status === 403) {
      clearInterval(metricsTimer); // an admin key is needed: stop asking
      metricsTimer = null;
    }
    return;
  }
  const p = parseProm(text);
  const now = {
    t: Date.now(),
    reqs: sumOf(p, "quarry_http_requests_total", apiRoute),
    lat: buckets(p, "quarry_http_request_duration_seconds", apiRoute),
    ttft: buckets(p, "quarry_http_ttft_seconds"),
    tokens: sumOf(p, "quarry_http_streamed_tokens_total"),
    hits: sumOf(p, "quarry_answer_cache_total", (l) => l.result === "hit"),
    lookups: sumOf(p, "quarry_answer_cache_total"),
  };
  if (lastScrape) {
    const dt = (now.t - lastScrape.t) / 1000;
    const lookups = now.lookups - lastScrape.lookups;
    samples.push({
      t: now.t,
      rate: Math.max(0, (now.reqs - lastScrape.reqs) / dt),
      p50: ms(quantile(now.lat, lastScrape.lat, 0.5)),
      p95: ms(quantile(now.lat, lastScrape.lat, 0.95)),
      p99: ms(quantile(now.lat, lastScrape.lat, 0.99)),
      ttft: ms(quantile(now.ttft, lastScrape.ttft, 0.5)),
      tps: Math.max(0, (now.tokens - lastScrape.tokens) / dt),
      hit: lookups > 0 ? (100 * (now.hits - lastScrape.hits)) / lookups : null,
    });
    while (samples.length > metricsKeep) samples.shift();
    if (samples.length % 6 === 0) store.set("metrics", samples);
  }
  lastScrape = now;
  $("metrics-status").textContent = samples.length ? "Last sample " + new Date(now.t).toLocaleTimeString() + " · " + samples.length + " samples" : "Collecting the first interval…";
  if (currentView === "metrics") drawCharts();
}

function ms(s) {
  return s === null ? null : s * 1000;
}

const chartDefs = [
  { title: "Requests per second (API routes)", series: [["rate", "req/s"]], unit: "/s" },
  { title: "Latency percentiles (ms)", series: [["p50", "p50"], ["p95", "p95"], ["p99", "p99"]], unit: " ms" },
  { title: "Time to first token, median (ms)", series: [["ttft", "TTFT p50"]], unit: " ms" },
  { title: "Streamed tokens per second", series: [["tps", "tokens/s"]], unit: "/s" },
  { title: "Answer cache hit rate (%)", series: [["hit", "hit %"]], unit: "%" },
];

function drawCharts() {
  const W = 600;
  const H = 160;
  $("charts").replaceChildren(...chartDefs.map((def) => {
    const vals = samples.flatMap((s) => def.series.map(([k]) => s[k])).filter((v) => v !== null && isFinite(v));
    const max = Math.max(...vals, 0) || 1;
    const t0 = samples.length ? samples[0].t : 0;
    const t1 = samples.length ? samples[samples.length - 1].t : 1;
    const x = (t) => (t1 > t0 ? ((t - t0) / (t1 - t0)) * (W - 50) + 45 : 45);
    const y = (v) => H - 20 - (v / max) * (H - 35);
    const g = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "chart", role: "img", "aria-label": def.title + ": latest " + latest(def) });
    g.append(svg("line", { x1: 45, y1: H - 20, x2: W - 5, y2: H - 20, class: "axis" }));
    g.append(svg("text", { x: 40, y: 16, class: "tick", "text-anchor": "end" }, fmtNum(max)));
    g.append(svg("text", { x: 40, y: H - 20, class: "tick", "text-anchor": "end" }, "0"));
    g.append(svg("text", { x: 45, y: H - 4, class: "tick" }, samples.length ? new Date(t0).toLocaleTimeString() : ""));
    g.append(svg("text", { x: W - 5, y: H - 4, class: "tick", "text-anchor": "end" }, samples.length ? new Date(t1).toLocaleTimeString() : ""));
    def.series.forEach(([k], i) => {
      const pts = samples.filter((s) => s[k] !== null && isFinite(s[k])).map((s) => x(s.t).toFixed(1) + "," + y(s[k]).toFixed(1));
      if (pts.length) g.append(svg("polyline", { points: pts.join(" "), class: "line s" + i }));
      if (pts.length) {
        const [cx, cy] = pts[pts.length - 1].split(",");
        g.append(svg("circle", { cx, cy, r: 3, class: "dot s" + i }));
      }
    });
    const legend = el("p", { class: "legend" }, ...def.series.map(([k, label], i) => el("span", { class: "key s" + i }, label + ": " + fmtLast(k, def.unit))));
    return el("figure", { class: "chart-box" }, el("figcaption", {}, def.title), g, legend);
  }));
}

function lastOf(k) {
  for (let i = samples.length - 1; i >= 0; i--) if (samples[i][k] !== null && isFinite(samples[i][k])) return samples[i][k];
  return null;
}

function fmtNum(v) {
  return v >= 100 ? Math.round(v).toString() : v >= 1 ? v.toFixed(1) : v.toFixed(3);
}

function fmtLast(k, unit) {
  const v = lastOf(k);
  return v === null ? "no data" : fmtNum(v) + unit;
}

function latest(def) {
  return def.series.map(([k, label]) => label + " " + fmtLast(k, def.unit)).join(", ");
}

// Sampling starts when the metrics page is first opened and goes on in
// the background while the tab is open, so the charts cover the last hour;
// the samples are kept in session storage across reloads.
function startMetrics() {
  $("metrics-every").textContent = String(metricsEvery / 1000);
  if (!samples.length) samples.push(...store.get("metrics", []).filter((s) => s.t > Date.now() - metricsKeep * metricsEvery));
  drawCharts();
  if (metricsTimer) return;
  scrape().then(() => setTimeout(scrape, 1000)); // a first interval at once
  metricsTimer = setInterval(scrape, metricsEvery);
}

function stopMetrics() {
  store.set("metrics", samples);
}

// ---- evaluation ----------------------------------------------------------------

// The metrics of `quarry eval rag` (internal/ragbench), in report order.
const evalMetrics = [
  ["answer_recall", "Answer recall"], ["exact_match", "Exact match"], ["f1", "Token F1"],
  ["citation_hit_first", "Citation hit (first)"], ["citation_hit_any", "Citation hit (any)"],
  ["citation_precision", "Citation precision"], ["abstention_rate", "Abstention rate (lower is better)"],
  ["retrieval_hit", "Retrieval hit@k"], ["context_precision_nonllm", "Context precision (non-LLM)"],
  ["context_recall_nonllm", "Context recall (non-LLM)"], ["faithfulness", "Faithfulness (judge)"],
  ["answer_relevancy", "Answer relevancy (judge)"], ["context_precision", "Context precision (judge)"],
  ["context_recall", "Context recall (judge)"],
];
const judgedMetrics = new Set(["faithfulness", "answer_relevancy", "context_precision", "context_recall"]);
const evalMaxDrop = 0.02; // the CLI's default --max-drop
const evalState = { datasets: [], runs: [], shown: null, timer: null, active: null, compare: null };

function metricLabel(m) {
  const d = evalMetrics.find(([k]) => k === m);
  return d ? d[1] : m;
}

function fmtScore(v) {
  return v === undefined || v === null ? "–" : v.toFixed(3);
}

function fmtWhen(t) {
  return t ? new Date(t).toLocaleString() : "–";
}

function buildMetricPicks() {
  const box = $("eval-metrics");
  if (box.querySelector("input")) return;
  for (const [k, label] of evalMetrics) {
    box.append(el("label", { class: "inline" }, el("input", { type: "checkbox", value: k, checked: true, disabled: judgedMetrics.has(k) }), label));
  }
}

async function openEval() {
  buildMetricPicks();
  let ds;
  try {
    ds = await api("GET", "/v1/evals/datasets");
  } catch (e) {
    $("eval-form").hidden = true;
    $("eval-runs-box").hidden = true;
    $("eval-result").hidden = true;
    $("eval-off").hidden = false;
    $("eval-off").textContent = e.status === 404
      ? "Evaluations cannot be run from this page: " + e.message.replace(/ \(field .*\)$/, "")
      : "Evaluations cannot be run from this page: " + e.message;
    return;
  }
  $("eval-off").hidden = true;
  $("eval-form").hidden = false;
  $("eval-runs-box").hidden = false;
  evalState.datasets = ds.datasets || [];
  const sel = $("eval-dataset");
  const keep = sel.value;
  sel.replaceChildren(...evalState.datasets.map((d) => el("option", { value: d.name }, d.name + (d.kind === "folder" ? " (folder with its corpus)" : " (questions)"))));
  if (keep && evalState.datasets.some((d) => d.name === keep)) sel.value = keep;
  if (!evalState.datasets.length) $("eval-status").textContent = "The dataset folder holds no datasets.";
  const cols = [...$("collection").options].map((o) => o.value);
  const csel = $("eval-collection");
  const ckeep = csel.value || currentCollection();
  csel.replaceChildren(...cols.map((c) => el("option", { value: c }, c)));
  if (cols.includes(ckeep)) csel.value = ckeep;
  syncEvalForm();
  await loadRuns();
}

function syncEvalForm() {
  const d = evalState.datasets.find((x) => x.name === $("eval-dataset").value);
  $("eval-collection").disabled = !d || d.kind === "folder";
  const judge = $("eval-judge").checked;
  for (const box of $("eval-metrics").querySelectorAll("input")) {
    if (judgedMetrics.has(box.value)) {
      box.disabled = !judge;
    }
  }
}

async function loadRuns() {
  try {
    const r = await api("GET", "/v1/evals");
    evalState.runs = r.evals || [];
  } catch (e) {
    $("eval-status").textContent = "Listing runs failed: " + e.message;
    return;
  }
  const finished = evalState.runs.filter((j) => j.report);
  const opts = (sel, none) => {
    const keep = sel.value;
    sel.replaceChildren(el("option", { value: "" }, none), ...finished.map((j) => el("option", { value: j.id }, runName(j))));
    if (finished.some((j) => j.id === keep)) sel.value = keep;
  };
  opts($("eval-baseline"), "none");
  $("eval-runs").tBodies[0].replaceChildren(...evalState.runs.map((j) => {
    const m = j.report && j.report.metrics;
    return el("tr", { "data-run": j.id },
      el("td", {}, fmtWhen(j.started || j.created)),
      el("td", { dir: "auto" }, j.request.dataset + (j.request.collection ? " → " + j.request.collection : "")),
      el("td", {}, j.request.method + (j.request.judge ? " + judge" : "")),
      el("td", {}, statusBadge(j)),
      el("td", { class: "num" }, j.report ? String(j.report.questions) : j.done + " / " + j.total),
      el("td", { class: "num" }, m && m.answer_recall !== undefined ? fmtScore(m.answer_recall) : "–"),
      el("td", { class: "actions" },
        j.report ? el("button", { type: "button", onclick: () => showRun(j.id), "aria-label": "Show the results of " + runName(j) }, "Results") : null,
        el("button", { type: "button", class: "danger", onclick: () => removeRun(j), "aria-label": (j.status === "queued" || j.status === "running" ? "Cancel " : "Delete ") + runName(j) },
          j.status === "queued" || j.status === "running" ? "Cancel" : "Delete")));
  }));
  const active = evalState.runs.find((j) => j.status === "queued" || j.status === "running" || j.status === "cancelling");
  if (active && !evalState.timer) watchRun(active.id);
}

function runName(j) {
  return j.request.dataset + ", " + j.request.method + ", " + fmtWhen(j.started || j.created);
}

function statusBadge(j) {
  const kind = { done: "ok", failed: "bad", cancelled: "warn", running: "info", queued: "info", cancelling: "warn" }[j.status] || "info";
  return badge(kind, j.status, j.error || "");
}

function evalRequest() {
  const num = (id) => {
    const v = $(id).value.trim();
    return v ? Number(v) : undefined;
  };
  const body = {
    dataset: $("eval-dataset").value,
    method: $("eval-method").value,
    k: num("eval-k"),
    max_sentences: num("eval-sentences"),
    limit: num("eval-limit"),
  };
  const d = evalState.datasets.find((x) => x.name === body.dataset);
  if (d && d.kind === "questions") body.collection = $("eval-collection").value;
  if ($("eval-mode").value) body.mode = $("eval-mode").value;
  if ($("eval-judge").checked) body.judge = true;
  if ($("eval-baseline").value) body.baseline = $("eval-baseline").value;
  const boxes = [...$("eval-metrics").querySelectorAll("input:not(:disabled)")];
  const picked = boxes.filter((b) => b.checked).map((b) => b.value);
  if (picked.length < boxes.length) body.metrics = picked;
  return body;
}

async function startEval() {
  if (!$("eval-dataset").value) {
    $("eval-status").textContent = "Choose a dataset first.";
    return;
  }
  const body = evalRequest();
  if (body.metrics && !body.metrics.length) {
    $("eval-status").textContent = "Choose at least one metric.";
    return;
  }
  $("eval-start").disabled = true;
  $("eval-status").textContent = "Starting…";
  try {
    const j = await api("POST", "/v1/evals", body);
    $("eval-status").textContent = "Started run " + j.id + ".";
    await loadRuns();
    watchRun(j.id);
  } catch (e) {
    $("eval-status").textContent = "Not started: " + e.message;
    $("eval-start").disabled = false;
  }
}

function watchRun(id) {
  clearTimeout(evalState.timer);
  evalState.active = id;
  $("eval-cancel").hidden = false;
  $("eval-progress").hidden = false;
  const tick = async () => {
    evalState.timer = null;
    let j;
    try {
      j = await api("GET", "/v1/evals/" + encodeURIComponent(id));
    } catch (e) {
      $("eval-status").textContent = "Following run " + id + " failed: " + e.message;
      stopWatching();
      return;
    }
    if (j.status === "queued") {
      $("eval-status").textContent = "Run " + id + " is queued behind another evaluation.";
    } else if (j.phase === "indexing") {
      $("eval-status").textContent = "Indexing the dataset's corpus: " + j.indexed + " documents…";
      $("eval-progress").removeAttribute("value");
    } else if (!["done", "failed", "cancelled"].includes(j.status)) {
      $("eval-status").textContent = (j.status === "cancelling" ? "Cancelling: " : "Asking: ") + j.done + " of " + j.total + " questions";
      $("eval-progress").max = Math.max(1, j.total);
      $("eval-progress").value = j.done;
    } else {
      stopWatching();
      $("eval-status").textContent = "Run " + id + " " + j.status + (j.error ? ": " + j.error : "") + (j.report ? " (" + j.report.questions + " questions)." : ".");
      await loadRuns();
      if (j.report) renderRun(j);
      return;
    }
    if (currentView === "eval") evalState.timer = setTimeout(tick, 700);
    else stopWatching(); // picked up again when the page is opened
  };
  tick();
}

function stopWatching() {
  clearTimeout(evalState.timer);
  evalState.timer = null;
  evalState.active = null;
  $("eval-cancel").hidden = true;
  $("eval-progress").hidden = true;
  $("eval-start").disabled = false;
}

async function removeRun(j) {
  try {
    if (j.status === "queued" || j.status === "running") {
      // Cancel only what is still running: a DELETE of a finished run
      // would remove its results.
      const now = await api("GET", "/v1/evals/" + encodeURIComponent(j.id));
      if (!["queued", "running"].includes(now.status)) {
        $("eval-status").textContent = "Run " + j.id + " had already finished (" + now.status + ").";
        await loadRuns();
        return;
      }
    }
    await api("DELETE", "/v1/evals/" + encodeURIComponent(j.id));
    $("eval-status").textContent = (j.status === "queued" || j.status === "running" ? "Cancelling run " : "Deleted run ") + j.id + ".";
    if (evalState.shown && evalState.shown.id === j.id && j.report) $("eval-result").hidden = true;
  } catch (e) {
    $("eval-status").textContent = "Failed: " + e.message;
  }
  await loadRuns();
}

async function showRun(id) {
  try {
    renderRun(await api("GET", "/v1/evals/" + encodeURIComponent(id)));
    $("eval-result-title").focus();
  } catch (e) {
    showError("Loading the run failed: " + e.message);
  }
}

// histogram draws the distribution of per-question scores in five bins.
function histogram(vals, label) {
  const bins = [0, 0, 0, 0, 0];
  for (const v of vals) bins[Math.min(4, Math.floor(v * 5))]++;
  const max = Math.max(...bins, 1);
  const g = svg("svg", { viewBox: "0 0 60 18", class: "hist", role: "img", "aria-label": label + ": " + bins.join(", ") + " questions in score bins 0–0.2 … 0.8–1" });
  bins.forEach((b, i) => g.append(svg("rect", { x: i * 12 + 1, y: 18 - (16 * b) / max, width: 10, height: (16 * b) / max, class: "bar" })));
  return g;
}

function renderRun(j) {
  evalState.shown = j;
  const rep = j.report;
  $("eval-result").hidden = false;
  $("eval-result-title").textContent = "Results: " + rep.dataset;
  const bits = [j.request.method, rep.mode ? "mode " + rep.mode : "", "k " + rep.k, rep.questions + " questions", rep.errors + " errors"];
  if (rep.judge_model) bits.push("judge " + rep.judge_model + " (" + rep.judge_errors + " judge errors)");
  if (rep.partial) bits.push("PARTIAL: the run stopped early");
  bits.push(rep.wall_seconds.toFixed(1) + " s");
  if (j.request.collection) bits.push("collection " + j.request.collection);
  $("eval-result-meta").textContent = bits.filter(Boolean).join(" · ");
  const reg = $("eval-regressions");
  reg.hidden = !(j.request.baseline);
  reg.className = j.regressions && j.regressions.length ? "error-text" : "meta";
  reg.textContent = !j.request.baseline ? "" : j.baseline_error ? "Not compared with the baseline: " + j.baseline_error
    : j.regressions && j.regressions.length ? "Dropped against the baseline by more than " + j.request.max_drop + ": " + j.regressions.join("; ")
      : "No metric dropped against the baseline by more than " + j.request.max_drop + ".";
  const csel = $("eval-compare");
  // Only runs of the same dataset compare: their questions match by id.
  const others = evalState.runs.filter((r) => r.report && r.id !== j.id && r.report.dataset === rep.dataset);
  const keep = j.request.baseline || csel.value || "";
  csel.replaceChildren(el("option", { value: "" }, others.length ? "no comparison" : "no other run of this dataset"), ...others.map((r) => el("option", { value: r.id }, runName(r))));
  csel.value = others.some((r) => r.id === keep) ? keep : "";
  $("eval-latency").replaceChildren(...["retrieval", "rerank", "generation", "total"].filter((s) => rep.latency && rep.latency[s]).flatMap((s) => [
    el("dt", {}, s + " p50 / p99"), el("dd", {}, fmtMs(rep.latency[s].p50_ms) + " / " + fmtMs(rep.latency[s].p99_ms))]));
  loadCompare();
}

async function loadCompare() {
  const id = $("eval-compare").value;
  evalState.compare = null;
  if (id) {
    try {
      evalState.compare = await api("GET", "/v1/evals/" + encodeURIComponent(id));
    } catch (e) {
      $("eval-status").textContent = "Loading the compared run failed: " + e.message;
    }
  }
  drawMetricTable();
  drawRows();
}

function drawMetricTable() {
  const rep = evalState.shown.report;
  const base = evalState.compare && evalState.compare.report;
  const rows = evalMetrics.filter(([k]) => rep.metrics[k] !== undefined || (base && base.metrics[k] !== undefined)).map(([k, label]) => {
    const v = rep.metrics[k];
    const b = base ? base.metrics[k] : undefined;
    let change = "";
    let cls = "";
    if (v !== undefined && b !== undefined) {
      const d = v - b;
      const drop = k === "abstention_rate" ? d : -d;
      change = (d >= 0 ? "+" : "") + d.toFixed(3);
      if (drop > evalMaxDrop + 1e-12) {
        cls = "bad";
        change += " (dropped)";
      } else if (-drop > evalMaxDrop) {
        cls = "ok";
        change += " (better)";
      }
    }
    const vals = (rep.results || []).map((r) => r.scores && r.scores[k]).filter((x) => x !== undefined);
    return el("tr", { "data-metric": k },
      el("th", { scope: "row" }, label),
      el("td", { class: "num" }, fmtScore(v)),
      el("td", { class: "num" }, String((rep.counts && rep.counts[k]) || 0)),
      el("td", {}, vals.length ? histogram(vals, label) : "–"),
      el("td", { class: "num" }, base ? fmtScore(b) : "–"),
      el("td", { class: "num " + (cls ? "delta " + cls : "") }, change || "–"));
  });
  $("eval-metric-table").tBodies[0].replaceChildren(...rows);
}

function drawRows() {
  const rep = evalState.shown.report;
  const before = new Map(((evalState.compare && evalState.compare.report && evalState.compare.report.results) || []).map((r) => [r.id, r]));
  const filter = $("eval-filter").value;
  const rows = (rep.results || []).filter((r) => {
    if (filter === "miss") return !r.error && r.scores && r.scores.answer_recall === 0;
    if (filter === "error") return !!r.error || (r.judge_errors && r.judge_errors.length);
    if (filter === "changed") {
      const b = before.get(r.id);
      return b && (b.answer !== r.answer || JSON.stringify(b.scores) !== JSON.stringify(r.scores));
    }
    return true;
  });
  $("eval-rows").replaceChildren(...rows.map((r) => questionRow(r, before.get(r.id))));
  $("eval-rows-count").textContent = rows.length + " of " + (rep.results || []).length + " questions shown.";
}

function questionRow(r, b) {
  const scores = Object.entries(r.scores || {}).sort((x, y) => evalMetrics.findIndex(([k]) => k === x[0]) - evalMetrics.findIndex(([k]) => k === y[0]));
  const head = el("summary", {}, el("span", { class: "q-text", dir: "auto" }, r.question), " ",
    r.error ? badge("bad", "error") : r.abstained ? badge("warn", "abstained") : null,
    r.scores && r.scores.answer_recall !== undefined ? badge(r.scores.answer_recall > 0 ? "ok" : "bad", "recall " + fmtScore(r.scores.answer_recall)) : null,
    b && b.scores && r.scores && b.scores.answer_recall !== r.scores.answer_recall ? badge("info", "was " + fmtScore(b.scores.answer_recall)) : null);
  const body = el("div", { class: "q-body" });
  if (r.error) body.append(el("p", { class: "error-text" }, r.error));
  body.append(el("h4", {}, "Answer"), el("p", { class: "answer-text", dir: "auto" }, r.answer || "(none)"));
  if (b && b.answer !== r.answer) body.append(el("h4", {}, "Answer in the compared run"), el("p", { class: "answer-text was", dir: "auto" }, b.answer || "(none)"));
  body.append(el("h4", {}, "Gold answers"), el("ul", { class: "plain" }, ...(r.golds || []).map((g) => el("li", { dir: "auto" }, g))));
  if (scores.length) {
    body.append(el("h4", {}, "Scores"), el("dl", { class: "timings" }, ...scores.flatMap(([k, v]) => [el("dt", {}, metricLabel(k)),
      el("dd", {}, fmtScore(v) + (b && b.scores && b.scores[k] !== undefined && b.scores[k] !== v ? " (was " + fmtScore(b.scores[k]) + ")" : ""))])));
  }
  if (r.judge_errors && r.judge_errors.length) body.append(el("p", { class: "error-text" }, "Judge errors: " + r.judge_errors.join("; ")));
  const passages = (title, list) => list && list.length ? [el("h4", {}, title), el("ol", { class: "ctx" }, ...list.map((c) => el("li", {}, el("span", { class: "meta" }, c.doc_id), el("p", { class: "text", dir: "auto" }, c.text))))] : [];
  body.append(...passages("Citations", r.citations), ...passages("Context (retrieved, best first)", r.contexts));
  return el("li", { "data-question": r.id }, el("details", {}, head, body));
}

// ---- start ------------------------------------------------------------------

async function downloadFeedback(ev) {
  ev.preventDefault();
  try {
    const res = await fetch("/v1/feedback", { headers: authHeaders({}) });
    if (!res.ok) throw await errorFrom(res);
    const url = URL.createObjectURL(await res.blob());
    const a = el("a", { href: url, download: "feedback.jsonl" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) {
    showError("Exporting feedback failed: " + e.message);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  let theme = localStorage.getItem("quarry.theme") || "auto";
  applyTheme(theme);
  $("theme-btn").addEventListener("click", () => {
    theme = themes[(themes.indexOf(theme) + 1) % themes.length];
    localStorage.setItem("quarry.theme", theme);
    applyTheme(theme);
  });
  loadSettings();
  $("settings-btn").addEventListener("click", () => {
    const open = $("settings").hidden;
    $("settings").hidden = !open;
    $("settings-btn").setAttribute("aria-expanded", String(open));
    if (open) $("api-key").focus();
  });
  $("settings-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    saveSettings();
    $("settings").hidden = true;
    $("settings-btn").setAttribute("aria-expanded", "false");
    $("settings-btn").focus();
  });
  $("forget-key").addEventListener("click", () => {
    $("api-key").value = "";
    store.del("key");
  });
  $("banner-close").addEventListener("click", () => showError(""));
  $("collection").addEventListener("change", () => {
    store.set("collection", currentCollection());
    if (currentView === "chat") renderThread();
    if (currentView === "collections") $("doc-list").replaceChildren();
  });

  $("ask-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = $("question").value.trim();
    if (!q || running) return;
    $("question").value = "";
    ask(q);
  });
  $("question").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $("ask-form").requestSubmit();
    }
  });
  $("stop-btn").addEventListener("click", () => running && running.abort());
  $("clear-chat").addEventListener("click", () => {
    store.del(threadKey());
    renderThread();
    $("chat-status").textContent = "Conversation cleared.";
    $("question").focus();
  });
  $("doc-back").addEventListener("click", () => {
    if (history.length > 1) history.back();
    else location.hash = "#/" + docBack;
  });

  $("debug-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    runDebug();
  });
  $("copy-curl").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("debug-curl").textContent);
      $("copy-status").textContent = "Copied.";
    } catch {
      const r = document.createRange();
      r.selectNodeContents($("debug-curl"));
      getSelection().removeAllRanges();
      getSelection().addRange(r);
      $("copy-status").textContent = "Selected: press Ctrl+C to copy.";
    }
  });

  $("patch-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    patchCollection();
  });
  $("create-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    createCollection();
  });
  const drop = $("drop");
  drop.addEventListener("click", () => $("file-input").click());
  drop.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      $("file-input").click();
    }
  });
  drop.addEventListener("dragover", (ev) => {
    ev.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    drop.classList.remove("over");
    if (ev.dataTransfer && ev.dataTransfer.files.length) uploadFiles(ev.dataTransfer.files);
  });
  $("file-input").addEventListener("change", () => {
    uploadFiles($("file-input").files);
    $("file-input").value = "";
  });
  $("docs-load").addEventListener("click", () => listDocuments(false));
  $("docs-more").addEventListener("click", () => listDocuments(true));
  $("feedback-link").addEventListener("click", downloadFeedback);
  $("eval-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    startEval();
  });
  $("eval-dataset").addEventListener("change", syncEvalForm);
  $("eval-judge").addEventListener("change", syncEvalForm);
  $("eval-cancel").addEventListener("click", () => {
    if (evalState.active) removeRun({ id: evalState.active, status: "running" });
  });
  $("eval-compare").addEventListener("change", loadCompare);
  $("eval-filter").addEventListener("change", drawRows);

  window.addEventListener("hashchange", route);
  window.addEventListener("pagehide", () => samples.length && store.set("metrics", samples));
  loadCollections().then(() => {
    route();
    // ?q=… asks on load, so answers can be linked to.
    const p = new URLSearchParams(location.search);
    if (p.get("q") && (currentView === "chat")) ask(p.get("q"));
  });
});
