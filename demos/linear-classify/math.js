/*
 * The mathematics of the linear-classifier demo: scores, the four losses, their gradients, one
 * gradient-descent step and seeded random parameters. No DOM access, so it also runs in Node.
 *
 * Conventions (shapes are given as rows x columns of nested arrays of JavaScript numbers, float64):
 *   params  {W: 3 x 2 array, b: array of 3}   score of class k at (x, y): W[k][0]*x + W[k][1]*y + b[k]
 *   points  array of N objects {x, y, label}  with label in {0, 1, 2} and N >= 1
 *   total loss  L = (1/N) sum_i L_i + reg * sum_{k,d} W[k][d]^2   (b is not regularized)
 *
 * Loaded as a classic script in the page it defines the global `LinearClassifyMath`; in Node,
 * `require` returns the same object.
 */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.LinearClassifyMath = api;
  }
})(typeof globalThis !== "undefined" ? globalThis : this, function () {
  "use strict";

  var NUM_CLASSES = 3;
  var NUM_DIMS = 2;

  var LOSS_TYPES = ["ww", "ova", "structured", "softmax"];
  var LOSS_NAMES = {
    ww: "Multiclass SVM (Weston and Watkins)",
    ova: "One-vs-all SVM",
    structured: "Structured SVM",
    softmax: "Softmax (cross-entropy)",
  };

  function deepFreeze(value) {
    if (value && typeof value === "object") {
      Object.keys(value).forEach(function (key) { deepFreeze(value[key]); });
      Object.freeze(value);
    }
    return value;
  }

  // Frozen so that no caller can edit the defaults in place; clonePoints/cloneParams give editable copies.
  var DEFAULT_POINTS = deepFreeze([
    { x: 0.5, y: 0.4, label: 0 },
    { x: 0.8, y: 0.3, label: 0 },
    { x: 0.3, y: 0.8, label: 0 },
    { x: -0.4, y: 0.3, label: 1 },
    { x: -0.3, y: 0.7, label: 1 },
    { x: -0.7, y: 0.2, label: 1 },
    { x: 0.7, y: -0.4, label: 2 },
    { x: 0.5, y: -0.6, label: 2 },
    { x: -0.4, y: -0.5, label: 2 },
  ]);
  var DEFAULT_PARAMS = deepFreeze({
    W: [
      [1, 2],
      [2, -4],
      [3, -1],
    ],
    b: [0, 0.5, -0.5],
  });
  var DEFAULT_REG = 0.1;
  var DEFAULT_STEP = 0.1;

  /** A value as text for error messages (JSON.stringify would print NaN and Infinity as null). */
  function describe(value) {
    if (typeof value === "number") return String(value);
    if (value === undefined) return "undefined";
    return JSON.stringify(value, function (key, v) {
      return typeof v === "number" && !isFinite(v) ? String(v) : v;
    });
  }

  function isFiniteNumber(value) {
    return typeof value === "number" && isFinite(value);
  }

  function checkParams(params) {
    if (!params || !Array.isArray(params.W) || !Array.isArray(params.b)) {
      throw new TypeError("params must be an object {W, b}; got " + describe(params) +
        ". Pass W as a 3 x 2 nested array and b as an array of 3 numbers.");
    }
    if (params.W.length !== NUM_CLASSES || params.b.length !== NUM_CLASSES) {
      throw new RangeError("W needs 3 rows and b 3 entries (one per class); got " + params.W.length +
        " rows and " + params.b.length + " entries.");
    }
    for (var k = 0; k < NUM_CLASSES; k++) {
      var row = params.W[k];
      if (!Array.isArray(row) || row.length !== NUM_DIMS) {
        throw new RangeError("W[" + k + "] must hold 2 numbers (the weights of x and y); got " +
          describe(row) + ".");
      }
      if (!isFiniteNumber(row[0]) || !isFiniteNumber(row[1]) || !isFiniteNumber(params.b[k])) {
        throw new RangeError("W and b must hold finite numbers; class " + k + " has W = " +
          describe(row) + ", b = " + describe(params.b[k]) +
          ". Randomize or reset the parameters, or lower the step size if training diverged.");
      }
    }
  }

  function checkPoints(points) {
    if (!Array.isArray(points) || points.length === 0) {
      throw new RangeError("points must be a non-empty array of {x, y, label}; got " +
        describe(points) + ". Add at least one point.");
    }
    for (var i = 0; i < points.length; i++) {
      var p = points[i];
      if (!p || !isFiniteNumber(p.x) || !isFiniteNumber(p.y)) {
        throw new RangeError("point " + i + " needs finite x and y; got " + describe(p) + ".");
      }
      if (p.label !== 0 && p.label !== 1 && p.label !== 2) {
        throw new RangeError("point " + i + " has label " + describe(p.label) +
          "; expected the class 0, 1 or 2.");
      }
    }
  }

  function checkLossType(lossType) {
    if (LOSS_TYPES.indexOf(lossType) < 0) {
      throw new RangeError("unknown loss type " + describe(lossType) + "; expected one of " +
        LOSS_TYPES.join(", ") + ".");
    }
  }

  function checkNonNegative(name, value) {
    if (!isFiniteNumber(value) || value < 0) {
      throw new RangeError(name + " must be a finite number >= 0; got " + describe(value) + ".");
    }
  }

  /** Scores of the three classes at (x, y): an array of 3 numbers. No validation (hot path). */
  function scoresAt(params, x, y) {
    var W = params.W;
    var b = params.b;
    return [
      W[0][0] * x + W[0][1] * y + b[0],
      W[1][0] * x + W[1][1] * y + b[1],
      W[2][0] * x + W[2][1] * y + b[2],
    ];
  }

  /** Index of the largest score; the lowest index wins a tie. */
  function argmax(values) {
    var best = 0;
    for (var k = 1; k < values.length; k++) {
      if (values[k] > values[best]) best = k;
    }
    return best;
  }

  /**
   * Loss of one example and its gradient with respect to the 3 scores.
   * Returns {loss: number, dScores: array of 3}.
   */
  function exampleLoss(scores, label, lossType) {
    var d = [0, 0, 0];
    var loss = 0;
    var k, margin;
    if (lossType === "ww") {
      // Every wrong class whose score comes within the margin 1 of the correct one adds its shortfall.
      for (k = 0; k < NUM_CLASSES; k++) {
        if (k === label) continue;
        margin = scores[k] - scores[label] + 1;
        if (margin > 0) {
          loss += margin;
          d[k] += 1;
          d[label] -= 1;
        }
      }
    } else if (lossType === "ova") {
      // Each class is its own binary problem: the correct score should be >= 1, the others <= -1.
      for (k = 0; k < NUM_CLASSES; k++) {
        if (k === label) {
          margin = 1 - scores[k];
          if (margin > 0) {
            loss += margin;
            d[k] -= 1;
          }
        } else {
          margin = 1 + scores[k];
          if (margin > 0) {
            loss += margin;
            d[k] += 1;
          }
        }
      }
    } else if (lossType === "structured") {
      // Only the highest-scoring wrong class counts (the lowest index on a tie, a valid subgradient).
      var worst = -1;
      for (k = 0; k < NUM_CLASSES; k++) {
        if (k !== label && (worst < 0 || scores[k] > scores[worst])) worst = k;
      }
      margin = scores[worst] - scores[label] + 1;
      if (margin > 0) {
        loss = margin;
        d[worst] += 1;
        d[label] -= 1;
      }
    } else {
      // Softmax: shift by the largest score so that exp cannot overflow.
      var top = Math.max(scores[0], scores[1], scores[2]);
      var sum = 0;
      var e = [0, 0, 0];
      for (k = 0; k < NUM_CLASSES; k++) {
        e[k] = Math.exp(scores[k] - top);
        sum += e[k];
      }
      loss = Math.log(sum) - (scores[label] - top);
      for (k = 0; k < NUM_CLASSES; k++) {
        d[k] = e[k] / sum - (k === label ? 1 : 0);
      }
    }
    return { loss: loss, dScores: d };
  }

  /**
   * Evaluate the classifier on the points: scores, per-point losses, the total loss and its gradient.
   *
   * @param {{W: number[][], b: number[]}} params  W 3 x 2, b 3
   * @param {{x: number, y: number, label: number}[]} points  N >= 1 points
   * @param {string} lossType  one of LOSS_TYPES
   * @param {number} reg  regularization strength >= 0
   * @returns {{rows: {scores: number[], loss: number}[], dataLoss: number, regLoss: number,
   *            total: number, dW: number[][], db: number[]}}
   *   rows has N entries (scores: 3 numbers); dW is 3 x 2 and db 3, the gradient of `total`.
   */
  function evaluate(params, points, lossType, reg) {
    checkParams(params);
    checkPoints(points);
    checkLossType(lossType);
    checkNonNegative("the regularization strength", reg);

    var n = points.length;
    var rows = [];
    var dataLoss = 0;
    var dW = [
      [0, 0],
      [0, 0],
      [0, 0],
    ];
    var db = [0, 0, 0];
    for (var i = 0; i < n; i++) {
      var p = points[i];
      var s = scoresAt(params, p.x, p.y);
      var ex = exampleLoss(s, p.label, lossType);
      rows.push({ scores: s, loss: ex.loss });
      dataLoss += ex.loss;
      for (var k = 0; k < NUM_CLASSES; k++) {
        // d s_k / d W[k] = (x, y) and d s_k / d b[k] = 1; averaged over the points below.
        dW[k][0] += ex.dScores[k] * p.x;
        dW[k][1] += ex.dScores[k] * p.y;
        db[k] += ex.dScores[k];
      }
    }
    dataLoss /= n;

    var regLoss = 0;
    for (var c = 0; c < NUM_CLASSES; c++) {
      for (var j = 0; j < NUM_DIMS; j++) {
        var w = params.W[c][j];
        regLoss += w * w;
        // d/dw of reg * w^2 is 2 * reg * w: the factor 2 is the one the total loss asks for.
        dW[c][j] = dW[c][j] / n + 2 * reg * w;
      }
      db[c] /= n;
    }
    regLoss *= reg;

    return { rows: rows, dataLoss: dataLoss, regLoss: regLoss, total: dataLoss + regLoss, dW: dW, db: db };
  }

  /** Parameters after one gradient-descent step: p - stepSize * grad. Returns a new {W, b}. */
  function step(params, grad, stepSize) {
    checkParams(params);
    checkParams({ W: grad.dW, b: grad.db });
    checkNonNegative("the step size", stepSize);
    var W = [];
    var b = [];
    for (var k = 0; k < NUM_CLASSES; k++) {
      W.push([params.W[k][0] - stepSize * grad.dW[k][0], params.W[k][1] - stepSize * grad.dW[k][1]]);
      b.push(params.b[k] - stepSize * grad.db[k]);
    }
    return { W: W, b: b };
  }

  function checkSeed(seed) {
    if (typeof seed !== "number" || !isFinite(seed) || Math.floor(seed) !== seed || seed < 0 ||
        seed > 4294967295) {
      throw new RangeError("the seed must be an integer from 0 to 4294967295; got " +
        describe(seed) + ".");
    }
  }

  /**
   * A seeded generator of uniform numbers in [0, 1) (mulberry32: 32-bit state, fast, reproducible
   * across browsers and Node since it only uses 32-bit integer arithmetic).
   */
  function makeRng(seed) {
    checkSeed(seed);
    var state = seed >>> 0;
    return function () {
      state = (state + 0x6d2b79f5) >>> 0;
      var t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  /** Random parameters drawn from the seed: W uniform in [-3, 3), b uniform in [-1, 1), rounded to 1e-3. */
  function randomParams(seed) {
    var rand = makeRng(seed);
    // Rounding keeps the numbers short in the address bar and readable in the grid.
    function draw(scale) {
      return Math.round((2 * rand() - 1) * scale * 1000) / 1000;
    }
    var W = [];
    for (var k = 0; k < NUM_CLASSES; k++) W.push([draw(3), draw(3)]);
    return { W: W, b: [draw(1), draw(1), draw(1)] };
  }

  function cloneParams(params) {
    return { W: params.W.map(function (row) { return row.slice(); }), b: params.b.slice() };
  }

  function clonePoints(points) {
    return points.map(function (p) { return { x: p.x, y: p.y, label: p.label }; });
  }

  return {
    NUM_CLASSES: NUM_CLASSES,
    LOSS_TYPES: LOSS_TYPES,
    LOSS_NAMES: LOSS_NAMES,
    DEFAULT_POINTS: DEFAULT_POINTS,
    DEFAULT_PARAMS: DEFAULT_PARAMS,
    DEFAULT_REG: DEFAULT_REG,
    DEFAULT_STEP: DEFAULT_STEP,
    scoresAt: scoresAt,
    argmax: argmax,
    evaluate: evaluate,
    step: step,
    makeRng: makeRng,
    randomParams: randomParams,
    checkParams: checkParams,
    checkPoints: checkPoints,
    checkLossType: checkLossType,
    checkNonNegative: checkNonNegative,
    checkSeed: checkSeed,
    describe: describe,
    cloneParams: cloneParams,
    clonePoints: clonePoints,
  };
});
