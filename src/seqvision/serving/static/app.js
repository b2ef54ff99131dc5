// The seqvision page: upload, drop, paste or draw a line; the server reads it (POST /v1/read).
// Plain JavaScript, no libraries, nothing loaded from elsewhere.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { seq: 0, previewUrl: null, drawing: false, dirty: false, pauseTimer: null };

async function loadModels() {
  try {
    const response = await fetch("/v1/models");
    const info = await response.json();
    const select = $("model");
    for (const m of info.models.filter((m) => m.kind !== "clip")) {  // clips go to /v1/clips, not this page
      const option = new Option(m.name, m.name, m.default, m.default);
      option.dataset.info = `${m.alphabet_size} characters, ${m.input_height} px` +
        (m.metrics.val_cer !== undefined ? `, validation CER ${(100 * m.metrics.val_cer).toFixed(1)} %` : "");
      select.add(option);
    }
    const beam = $("decoder").querySelector('option[value="beam"]');
    beam.disabled = !info.decoders.includes("beam");
    for (const lm of info.lms) $("lm").add(new Option(lm, lm));
    $("lm-label").hidden = info.lms.length === 0 || beam.disabled;
    showModelInfo();
  } catch (err) {
    showError(`Cannot reach the server: ${err}`);
  }
}

function showModelInfo() {
  const option = $("model").selectedOptions[0];
  $("model-info").textContent = option ? option.dataset.info : "";
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
  $("result").dataset.state = "error";
}

function setPreview(blob) {
  if (state.previewUrl) URL.revokeObjectURL(state.previewUrl);
  state.previewUrl = URL.createObjectURL(blob);
  $("preview").src = state.previewUrl;
  $("preview-wrap").hidden = false;
}

async function readImage(blob, name) {
  const seq = ++state.seq;  // a newer request wins over a slower older one
  const form = new FormData();
  form.append("file", blob, name);
  form.append("model", $("model").value);
  form.append("decoder", $("decoder").value);
  if ($("lm").value) form.append("lm", $("lm").value);
  setPreview(blob);
  $("error").hidden = true;
  $("result").dataset.state = "busy";
  $("result-time").textContent = "reading…";
  const started = performance.now();
  let response, body;
  try {
    response = await fetch("/v1/read", { method: "POST", body: form });
    body = await response.json();
  } catch (err) {
    if (seq === state.seq) showError(`Request failed: ${err}`);
    return;
  }
  if (seq !== state.seq) return;
  if (!response.ok) {
    const retry = response.headers.get("Retry-After");
    showError(`${body.detail || "error"} (${response.status} ${body.error || ""})` + (retry ? `; try again in ${retry} s` : ""));
    $("result-time").textContent = "";
    return;
  }
  showResult(body, performance.now() - started);
}

function showResult(result, roundTripMs) {
  const text = $("result-text");
  text.replaceChildren();
  for (const c of result.chars) {
    const span = document.createElement("span");
    span.textContent = c.char;
    span.title = `${c.char === " " ? "space" : c.char}: ${(100 * c.confidence).toFixed(1)} %`;
    span.style.backgroundColor = `rgba(192, 57, 43, ${(0.75 * (1 - c.confidence)).toFixed(3)})`;
    span.dataset.confidence = c.confidence;
    text.append(span);
  }
  if (!result.text) text.append(Object.assign(document.createElement("em"), { textContent: "(no text found)" }));
  const boxes = $("boxes");
  boxes.replaceChildren();
  for (const c of result.chars) {
    const box = document.createElement("div");
    box.style.left = `${(100 * c.x0) / result.width}%`;
    box.style.width = `${(100 * (c.x1 - c.x0)) / result.width}%`;
    boxes.append(box);
  }
  $("legend").hidden = result.chars.length === 0;
  $("result-confidence").textContent = `line confidence ${(100 * result.confidence).toFixed(1)} % · ${result.model}, ${result.decoder} ·`;
  $("result-time").textContent = `${result.timing.total_ms.toFixed(0)} ms on the server, ${roundTripMs.toFixed(0)} ms round trip`;
  $("result").dataset.state = "done";
}

// -- upload, drop, paste -------------------------------------------------------------------------------
function readFile(file) {
  if (!file) return;
  if (!file.type.startsWith("image/")) return showError(`${file.name}: not an image`);
  readImage(file, file.name);
}

function setUpUploads() {
  const zone = $("drop-zone");
  $("file-input").addEventListener("change", (e) => readFile(e.target.files[0]));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    readFile(e.dataTransfer.files[0]);
  });
  document.addEventListener("paste", (e) => {
    const item = [...e.clipboardData.items].find((i) => i.type.startsWith("image/"));
    if (item) readFile(item.getAsFile());
  });
}

// -- drawing ------------------------------------------------------------------------------------------
function setUpCanvas() {
  const canvas = $("canvas");
  const ctx = canvas.getContext("2d");
  const clear = () => {  // transparent: the page's baseline guide shows through but is never sent
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    state.dirty = false;
  };
  clear();
  const point = (e) => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
  };
  canvas.addEventListener("pointerdown", (e) => {
    clearTimeout(state.pauseTimer);
    canvas.setPointerCapture(e.pointerId);
    state.drawing = true;
    state.dirty = true;
    ctx.lineWidth = 7;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.strokeStyle = "black";
    ctx.beginPath();
    ctx.moveTo(...point(e));
    ctx.lineTo(...point(e));
    ctx.stroke();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!state.drawing) return;
    ctx.lineTo(...point(e));
    ctx.stroke();
  });
  const end = () => {
    if (!state.drawing) return;
    state.drawing = false;
    clearTimeout(state.pauseTimer);
    state.pauseTimer = setTimeout(readCanvas, 900);  // read when the writer pauses
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  $("clear-canvas").addEventListener("click", () => {
    clearTimeout(state.pauseTimer);
    clear();
  });
  $("read-canvas").addEventListener("click", readCanvas);
}

function readCanvas() {
  clearTimeout(state.pauseTimer);
  const canvas = $("canvas");
  if (!state.dirty) return showError("Write something in the box first.");
  const crop = inkCrop(canvas);
  crop.toBlob((blob) => readImage(blob, "drawing.png"), "image/png");
}

function inkCrop(canvas) {
  // The drawn line, cut to its ink with a margin: the model expects one line, not a page of white.
  const { width, height } = canvas;
  const data = canvas.getContext("2d").getImageData(0, 0, width, height).data;
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[4 * (y * width + x) + 3] > 128) {  // opaque: ink
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) [x0, y0, x1, y1] = [0, 0, width - 1, height - 1];
  const margin = Math.round(0.15 * (y1 - y0 + 1)) + 4;
  x0 = Math.max(0, x0 - margin); y0 = Math.max(0, y0 - margin);
  x1 = Math.min(width - 1, x1 + margin); y1 = Math.min(height - 1, y1 + margin);
  const out = document.createElement("canvas");
  out.width = x1 - x0 + 1;
  out.height = y1 - y0 + 1;
  const octx = out.getContext("2d");
  octx.fillStyle = "white";  // black ink on white paper, as the models were trained
  octx.fillRect(0, 0, out.width, out.height);
  octx.drawImage(canvas, x0, y0, out.width, out.height, 0, 0, out.width, out.height);
  return out;
}

document.addEventListener("DOMContentLoaded", () => {
  $("model").addEventListener("change", showModelInfo);
  $("lm").addEventListener("change", () => { if ($("lm").value) $("decoder").value = "beam"; });  // an LM needs beam search
  $("decoder").addEventListener("change", () => { if ($("decoder").value === "greedy") $("lm").value = ""; });
  setUpUploads();
  setUpCanvas();
  loadModels();
});
