/*
 * The demo's whole state and its text form in the address bar (the part after '#'), so that a
 * configuration can be shared as a link and reloads identically. No DOM access, so it also runs in Node.
 *
 * State: {params: {W: 3 x 2, b: 3}, points: [{x, y, label}] (1 to MAX_POINTS), lossType, reg,
 *         stepSize, seed (integer, the next Randomize draws from it), iteration (integer >= 0)}.
 * Text:  loss=ww&reg=0.1&step=0.1&seed=1&iter=0&W=1,2,2,-4,3,-1&b=0,0.5,-0.5&pts=0.5,0.4,0;0.8,0.3,0;...
 * Numbers are written with JavaScript's shortest round-trip form, so parsing gives back the same floats.
 *
 * Loaded as a classic script it defines the global `LinearClassifyState` (after math.js); in Node,
 * `require` returns the same object.
 */
(function (root, factory) {
  "use strict";
  if (typeof module === "object" && module.exports) {
    module.exports = factory(require("./math.js"));
  } else {
    root.LinearClassifyState = factory(root.LinearClassifyMath);
  }
})(typeof globalThis !== "undefined" ? globalThis : this, function (M) {
  "use strict";

  var MAX_POINTS = 60;
  // Points live in the square [-COORD_LIMIT, COORD_LIMIT]^2, the part of the plane the canvas shows.
  var COORD_LIMIT = 1.2;
  var DEFAULT_SEED = 1;
  var KEYS = ["loss", "reg", "step", "seed", "iter", "W", "b", "pts"];

  function defaultState() {
    return {
      params: M.cloneParams(M.DEFAULT_PARAMS),
      points: M.clonePoints(M.DEFAULT_POINTS),
      lossType: M.LOSS_TYPES[0],
      reg: M.DEFAULT_REG,
      stepSize: M.DEFAULT_STEP,
      seed: DEFAULT_SEED,
      iteration: 0,
    };
  }

  function parseNumber(text, what) {
    // Number("") is 0 and Number(" 1") is 1: insist on a plain decimal literal instead.
    if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
      throw new RangeError(what + " must be a number; got " + JSON.stringify(text) + ".");
    }
    return Number(text);
  }

  function parseList(text, count, what) {
    var parts = text.split(",");
    if (parts.length !== count) {
      throw new RangeError(what + " needs " + count + " comma-separated numbers; got " + parts.length + ".");
    }
    return parts.map(function (part, i) { return parseNumber(part, what + " entry " + i); });
  }

  function parseInteger(text, what, max) {
    if (!/^\d+$/.test(text) || Number(text) > max) {
      throw new RangeError(what + " must be an integer from 0 to " + max + "; got " +
        JSON.stringify(text) + ".");
    }
    return Number(text);
  }

  function checkCoordinate(value, what) {
    if (Math.abs(value) > COORD_LIMIT) {
      throw new RangeError(what + " is " + value + ", outside the visible square; keep |x| and |y| <= " +
        COORD_LIMIT + ".");
    }
  }

  function parsePoints(text) {
    var items = text.split(";");
    if (items.length > MAX_POINTS) {
      throw new RangeError("pts holds " + items.length + " points; at most " + MAX_POINTS + " are allowed.");
    }
    var points = items.map(function (item, i) {
      var parts = item.split(",");
      if (parts.length !== 3) {
        throw new RangeError("pts item " + i + " needs x,y,class; got " + JSON.stringify(item) + ".");
      }
      var p = {
        x: parseNumber(parts[0], "pts item " + i + " x"),
        y: parseNumber(parts[1], "pts item " + i + " y"),
        label: parseInteger(parts[2], "pts item " + i + " class", M.NUM_CLASSES - 1),
      };
      checkCoordinate(p.x, "pts item " + i + " x");
      checkCoordinate(p.y, "pts item " + i + " y");
      return p;
    });
    M.checkPoints(points);
    return points;
  }

  var PARSERS = {
    loss: function (state, text) {
      M.checkLossType(text);
      state.lossType = text;
    },
    reg: function (state, text) {
      var reg = parseNumber(text, "reg");
      M.checkNonNegative("reg", reg);
      state.reg = reg;
    },
    step: function (state, text) {
      var stepSize = parseNumber(text, "step");
      M.checkNonNegative("step", stepSize);
      state.stepSize = stepSize;
    },
    seed: function (state, text) {
      state.seed = parseInteger(text, "seed", 4294967295);
    },
    iter: function (state, text) {
      state.iteration = parseInteger(text, "iter", Number.MAX_SAFE_INTEGER);
    },
    W: function (state, text) {
      var w = parseList(text, 6, "W");
      var params = { W: [[w[0], w[1]], [w[2], w[3]], [w[4], w[5]]], b: state.params.b };
      M.checkParams(params);
      state.params = params;
    },
    b: function (state, text) {
      var params = { W: state.params.W, b: parseList(text, 3, "b") };
      M.checkParams(params);
      state.params = params;
    },
    pts: function (state, text) {
      state.points = parsePoints(text);
    },
  };

  /**
   * Read a state from the address fragment (with or without the leading '#').
   * Keys that are absent keep their defaults; a key that cannot be read keeps its default too and
   * adds a message to `problems`, so a damaged link still opens.
   *
   * @param {string} fragment
   * @returns {{state: object, problems: string[]}}
   */
  function parse(fragment) {
    if (typeof fragment !== "string") {
      throw new TypeError("parse expects the address fragment as a string; got " + typeof fragment + ".");
    }
    var state = defaultState();
    var problems = [];
    var text = fragment.charAt(0) === "#" ? fragment.slice(1) : fragment;
    if (text === "") return { state: state, problems: problems };
    text.split("&").forEach(function (pair) {
      if (pair === "") return;
      var eq = pair.indexOf("=");
      var key = eq < 0 ? pair : pair.slice(0, eq);
      var value;
      try {
        value = decodeURIComponent(eq < 0 ? "" : pair.slice(eq + 1));
      } catch (err) {
        problems.push(key + ": its value is not valid percent-encoding.");
        return;
      }
      if (!Object.prototype.hasOwnProperty.call(PARSERS, key)) {
        problems.push("unknown key " + JSON.stringify(key) + " ignored; known keys: " +
          KEYS.join(", ") + ".");
        return;
      }
      try {
        PARSERS[key](state, value);
      } catch (err) {
        problems.push(err.message);
      }
    });
    return { state: state, problems: problems };
  }

  /**
   * The address fragment (without '#') that `parse` turns back into the same state.
   * @param {object} state  a state as described at the top of this file
   * @returns {string}
   */
  function serialize(state) {
    M.checkParams(state.params);
    M.checkPoints(state.points);
    M.checkLossType(state.lossType);
    M.checkSeed(state.seed);
    var W = state.params.W;
    return [
      "loss=" + state.lossType,
      "reg=" + String(state.reg),
      "step=" + String(state.stepSize),
      "seed=" + String(state.seed),
      "iter=" + String(state.iteration),
      "W=" + [W[0][0], W[0][1], W[1][0], W[1][1], W[2][0], W[2][1]].map(String).join(","),
      "b=" + state.params.b.map(String).join(","),
      "pts=" + state.points.map(function (p) { return p.x + "," + p.y + "," + p.label; }).join(";"),
    ].join("&");
  }

  return {
    MAX_POINTS: MAX_POINTS,
    COORD_LIMIT: COORD_LIMIT,
    DEFAULT_SEED: DEFAULT_SEED,
    defaultState: defaultState,
    parse: parse,
    serialize: serialize,
  };
});
