// The page part of the seqvision page: upload a whole page; the server finds and reads its lines
// (POST /v1/read/page). The lines are drawn over the page (SVG) and listed in reading order beside it;
// hovering a line in either highlights it in both. Plain JavaScript, nothing loaded from elsewhere.
"use strict";

(() => {
  const byId = (id) => document.getElementById(id);
  const state = { seq: 0, url: null, file: null };

  function showError(message) {
    byId("page-error").textContent = message;
    byId("page-error").hidden = false;
    byId("page-result").dataset.state = "error";
    byId("page-meta").textContent = "";
  }

  async function post(file, format) {
    const form = new FormData();
    form.append("file", file, file.name);
    if (format) form.append("format", format);
    const response = await fetch("/v1/read/page", { method: "POST", body: form });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      const retry = response.headers.get("Retry-After");
      throw new Error(`${body.detail || "error"} (${response.status} ${body.error || ""})` + (retry ? `; try again in ${retry} s` : ""));
    }
    return response;
  }

  async function readPage(file) {
    if (!file) return;
    if (!file.type.startsWith("image/")) return showError(`${file.name}: not an image`);
    const seq = ++state.seq;  // a newer page wins over a slower older one
    state.file = file;
    byId("page-error").hidden = true;
    byId("page-result").dataset.state = "busy";
    byId("page-meta").textContent = "finding and reading the lines…";
    const started = performance.now();
    let body;
    try {
      body = await (await post(file)).json();
    } catch (err) {
      if (seq === state.seq) showError(`${err.message || err}`);
      return;
    }
    if (seq !== state.seq) return;
    if (state.url) URL.revokeObjectURL(state.url);
    state.url = URL.createObjectURL(file);
    byId("page-image").src = state.url;
    show(body, performance.now() - started);
  }

  function highlight(index, on) {
    for (const el of document.querySelectorAll(`[data-line="${index}"]`)) el.classList.toggle("hot", on);
  }

  function hoverable(el, index) {
    el.dataset.line = index;
    el.addEventListener("mouseenter", () => highlight(index, true));
    el.addEventListener("mouseleave", () => highlight(index, false));
  }

  function show(result, roundTripMs) {
    const overlay = byId("page-overlay");
    overlay.setAttribute("viewBox", `0 0 ${result.width} ${result.height}`);
    overlay.replaceChildren();
    const svg = overlay.namespaceURI;  // the SVG namespace, from the page's own element
    const list = byId("page-lines");
    list.replaceChildren();
    result.lines.forEach((line, i) => {
      const shape = document.createElementNS(svg, "polygon");
      shape.setAttribute("points", line.polygon.map(([x, y]) => `${x},${y}`).join(" "));
      const title = document.createElementNS(svg, "title");
      title.textContent = `${i + 1}: ${line.text}`;
      shape.append(title);
      hoverable(shape, i);
      overlay.append(shape);
      const item = document.createElement("li");
      item.textContent = line.text || "\u00a0";
      item.title = `confidence ${(100 * line.confidence).toFixed(1)} %`;
      if (line.confidence < 0.8) item.classList.add("unsure");
      hoverable(item, i);
      list.append(item);
    });
    const count = result.lines.length;
    const model = result.model ? ` · read with ${result.model}` + (result.chosen ? ` (${result.chosen})` : "") : "";
    byId("page-meta").textContent = (count ? `${count} line${count === 1 ? "" : "s"}` : "no text line found") + model +
      ` · ${result.timing.total_ms.toFixed(0)} ms on the server, ${roundTripMs.toFixed(0)} ms round trip`;
    byId("page-xml").hidden = count === 0;
    byId("page-view").hidden = false;
    byId("page-result").dataset.state = "done";
  }

  async function downloadXml() {
    if (!state.file) return;
    try {
      const blob = await (await post(state.file, "page")).blob();
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = state.file.name.replace(/\.[^.]+$/, "") + ".xml";
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (err) {
      showError(`${err.message || err}`);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const zone = byId("page-drop");
    byId("page-input").addEventListener("change", (e) => readPage(e.target.files[0]));
    zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      e.stopPropagation();
      zone.classList.remove("over");
      readPage(e.dataTransfer.files[0]);
    });
    byId("page-xml").addEventListener("click", downloadXml);
    fetch("/v1/models").then((r) => r.json()).then((info) => {
      if (!info.segmenter) {
        zone.replaceChildren(Object.assign(document.createElement("p"), {
          className: "muted", textContent: "Whole pages are off on this server (no page segmenter loaded).",
        }));
      }
    }).catch(() => {});
  });
})();
