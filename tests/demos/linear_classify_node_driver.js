// Runs calls into the demo's maths and state modules for the pytest suite.
// stdin: JSON {"demo_dir": "<folder holding math.js and state.js>", "calls": [call, ...]} where a call is
//   {"module": "math" | "state", "fn": "<exported function>", "args": [...]}  or
//   {"rng": <seed>, "count": <n>}  (the first n draws of makeRng(seed)).
// JSON has no NaN or Infinity: an argument {"$number": "NaN"} (or "Infinity", "-Infinity") stands for one.
// stdout: JSON list, one {"ok": value} or {"error": {"name", "message"}} per call, in order.
"use strict";
const path = require("path");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const request = JSON.parse(input, (key, value) =>
    value !== null && typeof value === "object" && "$number" in value ? Number(value.$number) : value);
  const modules = {
    math: require(path.join(request.demo_dir, "math.js")),
    state: require(path.join(request.demo_dir, "state.js")),
  };
  const answers = request.calls.map((call) => {
    try {
      if ("rng" in call) {
        const next = modules.math.makeRng(call.rng);
        return { ok: Array.from({ length: call.count }, () => next()) };
      }
      const fn = modules[call.module][call.fn];
      if (typeof fn !== "function") throw new TypeError(call.module + " has no function " + call.fn);
      return { ok: fn.apply(null, call.args) };
    } catch (err) {
      return { error: { name: err.name, message: err.message } };
    }
  });
  process.stdout.write(JSON.stringify(answers));
});
