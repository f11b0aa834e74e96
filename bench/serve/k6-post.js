// k6, open loop: POST the bodies of `fsml bench serve --write-requests FILE` at a constant arrival
// rate. Env: BENCH_BODIES, BENCH_URL (with the path), BENCH_RATE, BENCH_DURATION (e.g. 30s); not K6_*,
// which k6 reads as its own options.
import http from "k6/http";
import { SharedArray } from "k6/data";

const bodies = new SharedArray("bodies", () => open(__ENV.BENCH_BODIES).split("\n").filter((l) => l.length > 0));
const rate = parseInt(__ENV.BENCH_RATE || "2000");

export const options = {
  discardResponseBodies: true,
  summaryTrendStats: ["p(50)", "p(95)", "p(99)", "max"],
  scenarios: {
    open: {
      executor: "constant-arrival-rate",
      rate: rate,
      timeUnit: "1s",
      duration: __ENV.BENCH_DURATION || "30s",
      // Enough VUs for a server answering within 25 ms; more start (up to maxVUs) when it does not,
      // and an iteration with none free is counted as dropped.
      preAllocatedVUs: Math.max(20, rate / 40),
      maxVUs: Math.max(200, rate),
    },
  },
};

export default function () {
  const body = bodies[Math.floor(Math.random() * bodies.length)];
  http.post(__ENV.BENCH_URL, body, { headers: { "Content-Type": "application/json" } });
}
