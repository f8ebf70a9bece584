/*
 * The page's wiring: reads the state from the address, keeps the controls, grid, table, plane and chart
 * in step with it, runs gradient descent, edits points with the mouse, and writes the state back to the
 * address after every change. Load after math.js, state.js and view.js.
 */
(function () {
  "use strict";
  var M = window.LinearClassifyMath;
  var S = window.LinearClassifyState;
  var V = window.LinearClassifyView;

  var PLANE_SIZE = 480; // CSS pixels of the square plane
  var CHART_WIDTH = 480;
  var CHART_HEIGHT = 160;
  var NUDGE = 0.1;
  var HISTORY_LIMIT = 2000; // loss-chart entries kept; the oldest are dropped beyond it
  var HASH_INTERVAL_MS = 250; // while training or dragging, the address is rewritten at most this often
  var PARAM_SLOTS = ["W0", "W1", "b"]; // grid columns: W[k][0], W[k][1], b[k]

  var $ = function (id) { return document.getElementById(id); };
  var plane = $("plane");
  var chart = $("loss-chart");
  var dpr = Math.max(1, window.devicePixelRatio || 1);
  var viewport = V.makeViewport(PLANE_SIZE, Number(plane.dataset.extent));

  var state;
  var result; // LinearClassifyMath.evaluate of the current state
  var lossHistory = []; // [{iteration, total}] for the chart
  var running = false;
  var frameRequest = 0;
  var dragIndex = -1;
  var hoverIndex = -1;
  var lastHash = null;
  var lastHashTime = 0;
  var hashTimer = 0;

  // ---- address bar ------------------------------------------------------------------------------

  function writeHash(now) {
    window.clearTimeout(hashTimer);
    hashTimer = 0;
    var text = S.serialize(state);
    if (text === lastHash) return;
    if (!now && performance.now() - lastHashTime < HASH_INTERVAL_MS) {
      // Rewriting the address at every animation frame makes some browsers complain; catch up later.
      hashTimer = window.setTimeout(function () { writeHash(true); }, HASH_INTERVAL_MS);
      return;
    }
    lastHash = text;
    lastHashTime = performance.now();
    try {
      window.history.replaceState(null, "", "#" + text);
    } catch (err) {
      // Some browsers refuse replaceState on file:// pages; replacing the fragment adds no history entry.
      window.location.replace("#" + text);
    }
  }

  function loadFromHash() {
    var parsed = S.parse(window.location.hash);
    state = parsed.state;
    lastHash = window.location.hash.replace(/^#/, "");
    if (parsed.problems.length > 0) {
      showNotice("Parts of the address could not be read and keep their defaults:", parsed.problems);
    } else {
      hideNotice();
    }
  }

  // ---- messages -----------------------------------------------------------------------------------

  /** Show a message above the page; `details` (optional) become a bulleted list under it. */
  function showNotice(text, details) {
    var box = $("notice-text");
    box.textContent = text;
    if (details && details.length > 0) {
      var list = document.createElement("ul");
      details.forEach(function (line) {
        var item = document.createElement("li");
        item.textContent = line;
        list.appendChild(item);
      });
      box.appendChild(list);
    }
    $("notice").hidden = false;
  }

  function hideNotice() {
    $("notice").hidden = true;
  }

  // ---- building the grid and the table ------------------------------------------------------------

  function paramValue(k, slot) {
    return slot === "b" ? state.params.b[k] : state.params.W[k][slot === "W0" ? 0 : 1];
  }

  function paramGrad(k, slot) {
    return slot === "b" ? result.db[k] : result.dW[k][slot === "W0" ? 0 : 1];
  }

  function buildParamGrid() {
    var body = document.querySelector("#param-grid tbody");
    for (var k = 0; k < M.NUM_CLASSES; k++) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.className = "class-" + k;
      th.textContent = String(k);
      tr.appendChild(th);
      PARAM_SLOTS.forEach(function (slot) {
        var td = document.createElement("td");
        td.className = "param";
        td.dataset.param = slot === "b" ? "b" + k : "W" + k + slot.charAt(1);
        td.dataset.k = String(k);
        td.dataset.slot = slot;
        td.innerHTML =
          '<span class="value" title="value"></span>' +
          '<span class="nudges">' +
          '<button type="button" class="nudge-up" aria-label="increase">&#9650;</button>' +
          '<button type="button" class="nudge-down" aria-label="decrease">&#9660;</button>' +
          "</span>" +
          '<span class="grad" title="gradient of the total loss"></span>';
        tr.appendChild(td);
      });
      body.appendChild(tr);
    }
    body.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) return;
      var td = button.closest("td.param");
      var k = Number(td.dataset.k);
      var delta = button.classList.contains("nudge-up") ? NUDGE : -NUDGE;
      nudge(k, td.dataset.slot, delta);
    });
  }

  function makePointRow() {
    var tr = document.createElement("tr");
    tr.innerHTML =
      '<td class="index"></td><td class="x"></td><td class="y"></td><td class="label"></td>' +
      '<td class="s0"></td><td class="s1"></td><td class="s2"></td>' +
      '<td class="loss"><span class="loss-value"></span> <span class="zero-mark"></span></td>' +
      '<td><button type="button" class="remove">&times;</button></td>';
    return tr;
  }

  function syncRowCount() {
    var body = document.querySelector("#points-table tbody");
    while (body.children.length < state.points.length) body.appendChild(makePointRow());
    while (body.children.length > state.points.length) body.removeChild(body.lastChild);
  }

  function setNumber(element, value, digits) {
    element.dataset.value = String(value);
    element.textContent = value.toFixed(digits);
  }

  // ---- rendering ----------------------------------------------------------------------------------

  function renderGrid() {
    var cells = document.querySelectorAll("#param-grid td.param");
    Array.prototype.forEach.call(cells, function (td) {
      var k = Number(td.dataset.k);
      var grad = paramGrad(k, td.dataset.slot);
      setNumber(td.querySelector(".value"), paramValue(k, td.dataset.slot), 3);
      var gradElement = td.querySelector(".grad");
      gradElement.dataset.value = String(grad);
      gradElement.textContent = "grad " + grad.toFixed(3);
    });
  }

  function renderTable() {
    syncRowCount();
    var rows = document.querySelectorAll("#points-table tbody tr");
    var canRemove = state.points.length > 1;
    Array.prototype.forEach.call(rows, function (tr, i) {
      var p = state.points[i];
      var r = result.rows[i];
      tr.dataset.index = String(i);
      tr.className = "class-" + p.label;
      tr.classList.toggle("zero-loss", r.loss === 0);
      tr.classList.toggle("hover", i === hoverIndex);
      tr.querySelector(".index").textContent = String(i + 1);
      setNumber(tr.querySelector(".x"), p.x, 2);
      setNumber(tr.querySelector(".y"), p.y, 2);
      tr.querySelector(".label").textContent = String(p.label);
      for (var k = 0; k < M.NUM_CLASSES; k++) {
        var cell = tr.querySelector(".s" + k);
        setNumber(cell, r.scores[k], 2);
        cell.classList.toggle("correct", k === p.label);
      }
      setNumber(tr.querySelector(".loss-value"), r.loss, 4);
      tr.querySelector(".zero-mark").textContent = r.loss === 0 ? "\u2713" : "";
      var remove = tr.querySelector(".remove");
      remove.disabled = !canRemove;
      remove.title = canRemove ? "remove point " + (i + 1) : "the last point cannot be removed";
    });
  }

  function renderSummary() {
    setNumber($("data-loss"), result.dataLoss, 4);
    setNumber($("reg-loss"), result.regLoss, 4);
    setNumber($("total-loss"), result.total, 4);
    $("formula-title").textContent = M.LOSS_NAMES[state.lossType];
    Array.prototype.forEach.call(document.querySelectorAll("#formula [data-loss]"), function (div) {
      div.hidden = div.dataset.loss !== state.lossType;
    });
  }

  function renderControls() {
    // Leave a field alone while the user is typing in it, so their text is not rewritten under them.
    if (document.activeElement !== $("step-size")) $("step-size").value = String(state.stepSize);
    if (document.activeElement !== $("reg")) $("reg").value = String(state.reg);
    if (document.activeElement !== $("seed")) $("seed").value = String(state.seed);
    $("loss-type").value = state.lossType;
    $("iteration").textContent = String(state.iteration);
    $("run").textContent = running ? "Stop repeated update" : "Start repeated update";
    $("run").classList.toggle("running", running);
  }

  function renderPlane() {
    V.drawPlane(plane, viewport, state.params, state.points, dpr, dragIndex >= 0 ? dragIndex : hoverIndex);
  }

  function renderChart() {
    V.drawLossChart(chart, CHART_WIDTH, CHART_HEIGHT, dpr, lossHistory);
  }

  function render() {
    renderPlane();
    renderGrid();
    renderTable();
    renderSummary();
    renderControls();
    renderChart();
  }

  // ---- state changes ------------------------------------------------------------------------------

  function recordHistory(reset) {
    if (reset) lossHistory = [];
    lossHistory.push({ iteration: state.iteration, total: result.total });
    if (lossHistory.length > HISTORY_LIMIT) lossHistory.splice(0, lossHistory.length - HISTORY_LIMIT);
  }

  /** Re-evaluate after a change, redraw everything and update the address. */
  function changed(options) {
    result = M.evaluate(state.params, state.points, state.lossType, state.reg);
    recordHistory(Boolean(options && options.resetHistory));
    render();
    writeHash(!(options && options.throttle));
  }

  function singleStep() {
    var next;
    try {
      next = M.step(state.params, result, state.stepSize);
      var total = M.evaluate(next, state.points, state.lossType, state.reg).total;
      if (!isFinite(total)) throw new RangeError("the total loss became " + total + ".");
    } catch (err) {
      stop();
      showNotice("The update was not applied: " + err.message + " Lower the step size or the " +
        "regularization, then reset or randomize the parameters.");
      return false;
    }
    state.params = next;
    state.iteration += 1;
    changed({ throttle: running });
    return true;
  }

  function frame() {
    frameRequest = 0;
    if (!running) return;
    if (singleStep()) frameRequest = window.requestAnimationFrame(frame);
  }

  function start() {
    if (running) return;
    running = true;
    renderControls();
    frameRequest = window.requestAnimationFrame(frame);
  }

  function stop() {
    if (frameRequest) window.cancelAnimationFrame(frameRequest);
    frameRequest = 0;
    if (!running) return;
    running = false;
    renderControls();
    writeHash(true);
  }

  function nudge(k, slot, delta) {
    var params = M.cloneParams(state.params);
    if (slot === "b") params.b[k] += delta;
    else params.W[k][slot === "W0" ? 0 : 1] += delta;
    state.params = params;
    changed();
  }

  function randomize() {
    state.params = M.randomParams(state.seed);
    // The next click draws from the next seed; the address records both, so a reload repeats the sequence.
    state.seed = (state.seed + 1) % 4294967296;
    state.iteration = 0;
    changed({ resetHistory: true });
  }

  function resetParams() {
    state.params = M.cloneParams(M.DEFAULT_PARAMS);
    state.iteration = 0;
    changed({ resetHistory: true });
  }

  function removePoint(index) {
    if (state.points.length <= 1 || index < 0 || index >= state.points.length) return;
    state.points.splice(index, 1);
    hoverIndex = -1;
    changed();
  }

  // ---- inputs -------------------------------------------------------------------------------------

  /** Read a non-negative number from an input; mark it invalid (and change nothing) otherwise. */
  function readNonNegative(input, label) {
    var value = input.value.trim() === "" ? NaN : Number(input.value);
    if (!isFinite(value) || value < 0) {
      input.setCustomValidity(label + " must be a number >= 0");
      input.classList.add("invalid");
      return null;
    }
    input.setCustomValidity("");
    input.classList.remove("invalid");
    return value;
  }

  function bindControls() {
    $("step-size").addEventListener("input", function () {
      var value = readNonNegative(this, "the step size");
      if (value !== null) {
        state.stepSize = value;
        changed();
      }
    });
    $("reg").addEventListener("input", function () {
      var value = readNonNegative(this, "the regularization strength");
      if (value !== null) {
        state.reg = value;
        changed();
      }
    });
    $("seed").addEventListener("input", function () {
      var text = this.value.trim();
      if (!/^\d+$/.test(text) || Number(text) > 4294967295) {
        this.setCustomValidity("the seed must be an integer from 0 to 4294967295");
        this.classList.add("invalid");
        return;
      }
      this.setCustomValidity("");
      this.classList.remove("invalid");
      state.seed = Number(text);
      writeHash(true);
    });
    [$("step-size"), $("reg"), $("seed")].forEach(function (input) {
      input.addEventListener("blur", function () {
        input.setCustomValidity("");
        input.classList.remove("invalid");
        renderControls();
      });
    });
    $("loss-type").addEventListener("change", function () {
      state.lossType = this.value;
      changed();
    });
    $("single-step").addEventListener("click", function () {
      stop();
      singleStep();
    });
    $("run").addEventListener("click", function () {
      if (running) stop();
      else start();
    });
    $("randomize").addEventListener("click", randomize);
    $("reset-params").addEventListener("click", resetParams);
    $("reset-points").addEventListener("click", function () {
      state.points = M.clonePoints(M.DEFAULT_POINTS);
      hoverIndex = -1;
      changed();
    });
    $("notice-close").addEventListener("click", hideNotice);
    document.querySelector("#points-table tbody").addEventListener("click", function (event) {
      var button = event.target.closest("button.remove");
      if (button) removePoint(Number(button.closest("tr").dataset.index));
    });
    window.addEventListener("hashchange", function () {
      // Only an address typed or pasted by the user lands here; our own rewrites are remembered.
      if (window.location.hash.replace(/^#/, "") === lastHash) return;
      stop();
      loadFromHash();
      changed({ resetHistory: true });
    });
  }

  // ---- the mouse on the plane ---------------------------------------------------------------------

  function eventPixel(event) {
    var rect = plane.getBoundingClientRect();
    return { px: event.clientX - rect.left, py: event.clientY - rect.top };
  }

  /** Plane coordinates under the pointer, kept inside the visible square and rounded to 0.001. */
  function eventWorld(event) {
    var at = eventPixel(event);
    var w = viewport.toWorld(at.px, at.py);
    function tidy(v) {
      return Math.round(Math.max(-S.COORD_LIMIT, Math.min(S.COORD_LIMIT, v)) * 1000) / 1000;
    }
    return { x: tidy(w.x), y: tidy(w.y) };
  }

  function selectedClass() {
    return Number(document.querySelector('input[name="add-class"]:checked').value);
  }

  function bindPlane() {
    plane.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      var at = eventPixel(event);
      var index = V.pointAt(viewport, state.points, at.px, at.py);
      if (index >= 0) {
        dragIndex = index;
        plane.setPointerCapture(event.pointerId);
        plane.classList.add("dragging");
        renderPlane();
        return;
      }
      if (state.points.length >= S.MAX_POINTS) {
        showNotice("The plane holds at most " + S.MAX_POINTS + " points; remove one before adding another.");
        return;
      }
      var w = eventWorld(event);
      state.points.push({ x: w.x, y: w.y, label: selectedClass() });
      hoverIndex = state.points.length - 1;
      changed();
    });
    plane.addEventListener("pointermove", function (event) {
      if (dragIndex >= 0) {
        var w = eventWorld(event);
        state.points[dragIndex].x = w.x;
        state.points[dragIndex].y = w.y;
        changed({ throttle: true });
        return;
      }
      var at = eventPixel(event);
      var index = V.pointAt(viewport, state.points, at.px, at.py);
      plane.classList.toggle("over-point", index >= 0);
      if (index !== hoverIndex) {
        hoverIndex = index;
        renderPlane();
        renderTable();
      }
    });
    function endDrag() {
      if (dragIndex < 0) return;
      dragIndex = -1;
      plane.classList.remove("dragging");
      renderPlane();
      writeHash(true);
    }
    plane.addEventListener("pointerup", endDrag);
    plane.addEventListener("pointercancel", endDrag);
    plane.addEventListener("pointerleave", function () {
      if (dragIndex < 0 && hoverIndex >= 0) {
        hoverIndex = -1;
        renderPlane();
        renderTable();
      }
    });
    plane.addEventListener("contextmenu", function (event) {
      var at = eventPixel(event);
      var index = V.pointAt(viewport, state.points, at.px, at.py);
      if (index >= 0) {
        event.preventDefault();
        removePoint(index);
      }
    });
  }

  // ---- start-up -----------------------------------------------------------------------------------

  function sizeCanvas(canvas, width, height) {
    canvas.style.width = width + "px";
    canvas.style.height = height + "px";
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
  }

  sizeCanvas(plane, PLANE_SIZE, PLANE_SIZE);
  sizeCanvas(chart, CHART_WIDTH, CHART_HEIGHT);
  $("nudge-size").textContent = String(NUDGE);
  buildParamGrid();
  bindControls();
  bindPlane();
  loadFromHash();
  changed({ resetHistory: true });
})();
