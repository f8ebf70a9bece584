/*
 * Drawing for the linear-classifier demo: the plane (decision regions, zero-score lines, weight arrows,
 * axes, points) and the chart of the total loss. Pure drawing on canvases it is given; no state of its own.
 * Defines the global `LinearClassifyView` (load after math.js).
 */
(function (root) {
  "use strict";
  var M = root.LinearClassifyMath;

  // Class colours for points, lines and arrows, and the lighter tints that fill the decision regions.
  var CLASS_COLORS = ["#c62828", "#2e7d32", "#1565c0"];
  var REGION_RGB = [
    [244, 204, 204],
    [204, 232, 205],
    [200, 220, 242],
  ];
  var POINT_RADIUS = 6;

  /**
   * The map between plane coordinates in [-extent, extent]^2 and CSS pixels of a square canvas of
   * `size` pixels, y pointing up on the plane and down on the canvas.
   */
  function makeViewport(size, extent) {
    var scale = size / (2 * extent);
    return {
      size: size,
      extent: extent,
      toPixel: function (x, y) {
        return { px: (x + extent) * scale, py: (extent - y) * scale };
      },
      toWorld: function (px, py) {
        return { x: px / scale - extent, y: extent - py / scale };
      },
    };
  }

  /** Fill every device pixel with the tint of the class that scores highest at its centre. */
  function drawRegions(ctx, viewport, params, dpr) {
    var width = Math.round(viewport.size * dpr);
    var image = ctx.createImageData(width, width);
    var data = image.data; // RGBA bytes, row-major: (width * width * 4,)
    for (var row = 0; row < width; row++) {
      for (var col = 0; col < width; col++) {
        var p = viewport.toWorld((col + 0.5) / dpr, (row + 0.5) / dpr);
        var rgb = REGION_RGB[M.argmax(M.scoresAt(params, p.x, p.y))];
        var offset = (row * width + col) * 4;
        data[offset] = rgb[0];
        data[offset + 1] = rgb[1];
        data[offset + 2] = rgb[2];
        data[offset + 3] = 255;
      }
    }
    ctx.putImageData(image, 0, 0);
  }

  function drawAxes(ctx, viewport) {
    var size = viewport.size;
    var origin = viewport.toPixel(0, 0);
    ctx.strokeStyle = "rgba(0, 0, 0, 0.45)";
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(0, origin.py);
    ctx.lineTo(size, origin.py);
    ctx.moveTo(origin.px, 0);
    ctx.lineTo(origin.px, size);
    ctx.stroke();
    ctx.fillStyle = "rgba(0, 0, 0, 0.7)";
    ctx.font = "11px sans-serif";
    [-1, -0.5, 0.5, 1].forEach(function (t) {
      var onX = viewport.toPixel(t, 0);
      var onY = viewport.toPixel(0, t);
      ctx.beginPath();
      ctx.moveTo(onX.px, onX.py - 4);
      ctx.lineTo(onX.px, onX.py + 4);
      ctx.moveTo(onY.px - 4, onY.py);
      ctx.lineTo(onY.px + 4, onY.py);
      ctx.stroke();
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      ctx.fillText(String(t), onX.px, onX.py + 6);
      ctx.textAlign = "left";
      ctx.textBaseline = "middle";
      ctx.fillText(String(t), onY.px + 7, onY.py);
    });
    ctx.textAlign = "right";
    ctx.textBaseline = "bottom";
    ctx.fillText("x", size - 4, origin.py - 4);
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    ctx.fillText("y", origin.px + 6, 4);
  }

  /**
   * Class k's zero-score line W_k . p + b_k = 0, and an arrow along W_k (towards higher scores) from the
   * point of the line closest to the origin; the arrow grows with |W_k| between a floor and a cap.
   */
  function drawClassLine(ctx, viewport, params, k) {
    var w0 = params.W[k][0];
    var w1 = params.W[k][1];
    var norm2 = w0 * w0 + w1 * w1;
    if (norm2 < 1e-12) return; // W_k = 0: the score is constant, there is no line to draw
    var norm = Math.sqrt(norm2);
    var foot = { x: (-params.b[k] * w0) / norm2, y: (-params.b[k] * w1) / norm2 };
    var reach = 4 * viewport.extent; // far enough along the line to cross the whole canvas
    var a = viewport.toPixel(foot.x - (w1 / norm) * reach, foot.y + (w0 / norm) * reach);
    var c = viewport.toPixel(foot.x + (w1 / norm) * reach, foot.y - (w0 / norm) * reach);
    ctx.strokeStyle = CLASS_COLORS[k];
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(a.px, a.py);
    ctx.lineTo(c.px, c.py);
    ctx.stroke();

    var length = Math.min(0.1 + 0.15 * norm, 0.8);
    var start = viewport.toPixel(foot.x, foot.y);
    var end = viewport.toPixel(foot.x + (w0 / norm) * length, foot.y + (w1 / norm) * length);
    var angle = Math.atan2(end.py - start.py, end.px - start.px);
    ctx.beginPath();
    ctx.moveTo(start.px, start.py);
    ctx.lineTo(end.px, end.py);
    ctx.stroke();
    ctx.fillStyle = CLASS_COLORS[k];
    ctx.beginPath();
    ctx.moveTo(end.px, end.py);
    ctx.lineTo(end.px - 10 * Math.cos(angle - 0.4), end.py - 10 * Math.sin(angle - 0.4));
    ctx.lineTo(end.px - 10 * Math.cos(angle + 0.4), end.py - 10 * Math.sin(angle + 0.4));
    ctx.closePath();
    ctx.fill();
  }

  function drawPoints(ctx, viewport, points, highlight) {
    points.forEach(function (p, i) {
      var at = viewport.toPixel(p.x, p.y);
      ctx.beginPath();
      ctx.arc(at.px, at.py, POINT_RADIUS, 0, 2 * Math.PI);
      ctx.fillStyle = CLASS_COLORS[p.label];
      ctx.fill();
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = "#111";
      ctx.stroke();
      if (i === highlight) {
        ctx.beginPath();
        ctx.arc(at.px, at.py, POINT_RADIUS + 4, 0, 2 * Math.PI);
        ctx.lineWidth = 2;
        ctx.strokeStyle = "#111";
        ctx.stroke();
      }
    });
  }

  /**
   * Draw the plane on `canvas`, whose backing store is `dpr` times its CSS size.
   * @param {HTMLCanvasElement} canvas
   * @param {object} viewport  from makeViewport
   * @param {{W: number[][], b: number[]}} params  W 3 x 2, b 3
   * @param {{x: number, y: number, label: number}[]} points
   * @param {number} dpr  device pixels per CSS pixel
   * @param {number} highlight  index of the point to ring (hovered or dragged), -1 for none
   */
  function drawPlane(canvas, viewport, params, points, dpr, highlight) {
    var ctx = canvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    drawRegions(ctx, viewport, params, dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    drawAxes(ctx, viewport);
    for (var k = 0; k < M.NUM_CLASSES; k++) drawClassLine(ctx, viewport, params, k);
    drawPoints(ctx, viewport, points, highlight);
  }

  /** Index of the point drawn under CSS pixel (px, py), the nearest if several; -1 if none. */
  function pointAt(viewport, points, px, py) {
    var best = -1;
    var bestDistance = POINT_RADIUS + 3;
    points.forEach(function (p, i) {
      var at = viewport.toPixel(p.x, p.y);
      var distance = Math.hypot(at.px - px, at.py - py);
      if (distance <= bestDistance) {
        best = i;
        bestDistance = distance;
      }
    });
    return best;
  }

  /**
   * Line chart of the total loss against the iteration.
   * @param {HTMLCanvasElement} canvas  backing store `dpr` times its CSS size `width` x `height`
   * @param {{iteration: number, total: number}[]} history  in order of iteration
   */
  function drawLossChart(canvas, width, height, dpr, history) {
    var ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, width, height);
    var left = 48;
    var right = width - 12;
    var top = 12;
    var bottom = height - 24;
    ctx.strokeStyle = "#999";
    ctx.lineWidth = 1;
    ctx.strokeRect(left, top, right - left, bottom - top);
    ctx.fillStyle = "#333";
    ctx.font = "11px sans-serif";
    if (history.length === 0) return;
    var maxLoss = 0;
    history.forEach(function (h) { maxLoss = Math.max(maxLoss, h.total); });
    maxLoss = maxLoss > 0 ? maxLoss * 1.05 : 1;
    var first = history[0].iteration;
    var last = Math.max(history[history.length - 1].iteration, first + 1);
    function toX(iteration) { return left + ((iteration - first) / (last - first)) * (right - left); }
    function toY(total) { return bottom - (total / maxLoss) * (bottom - top); }
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    ctx.fillText(maxLoss.toFixed(2), left - 4, top);
    ctx.fillText("0", left - 4, bottom);
    ctx.textBaseline = "top";
    ctx.textAlign = "left";
    ctx.fillText(String(first), left, bottom + 4);
    ctx.textAlign = "right";
    ctx.fillText(String(history[history.length - 1].iteration), right, bottom + 4);
    ctx.textAlign = "center";
    ctx.fillText("iteration", (left + right) / 2, bottom + 4);
    ctx.strokeStyle = "#1565c0";
    ctx.lineWidth = 2;
    ctx.beginPath();
    history.forEach(function (h, i) {
      if (i === 0) ctx.moveTo(toX(h.iteration), toY(h.total));
      else ctx.lineTo(toX(h.iteration), toY(h.total));
    });
    ctx.stroke();
    if (history.length === 1) {
      ctx.fillStyle = "#1565c0";
      ctx.beginPath();
      ctx.arc(toX(first), toY(history[0].total), 3, 0, 2 * Math.PI);
      ctx.fill();
    }
  }

  root.LinearClassifyView = {
    CLASS_COLORS: CLASS_COLORS,
    REGION_RGB: REGION_RGB,
    makeViewport: makeViewport,
    drawPlane: drawPlane,
    pointAt: pointAt,
    drawLossChart: drawLossChart,
  };
})(typeof globalThis !== "undefined" ? globalThis : this);
