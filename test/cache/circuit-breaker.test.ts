/** The breaker opens after N consecutive failures, probes once after the cool-down, and counts its trips. */
import { expect, test } from "bun:test";
import { CircuitBreaker } from "../../src/cache/l2/circuit-breaker.ts";

function breakerAt(clock: { now: number }) {
  return new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1_000 }, () => clock.now);
}

test("opens after the threshold of consecutive failures, not before", () => {
  const clock = { now: 0 };
  const breaker = breakerAt(clock);
  breaker.failure();
  breaker.failure();
  breaker.success();
  breaker.failure();
  breaker.failure();
  expect(breaker.state).toBe("closed");
  breaker.failure();
  expect(breaker.state).toBe("open");
  expect(breaker.acquire()).toBeNull();
  expect(breaker.stats()).toMatchObject({ state: "open", trips: 1, consecutiveFailures: 3 });
});

test("after the cool-down lets one probe through; success closes", () => {
  const clock = { now: 0 };
  const breaker = breakerAt(clock);
  for (let i = 0; i < 3; i++) breaker.failure();
  clock.now = 999;
  expect(breaker.acquire()).toBeNull();
  clock.now = 1_000;
  expect(breaker.acquire()).toBe("probe");
  expect(breaker.acquire()).toBeNull();
  breaker.success();
  expect(breaker.state).toBe("closed");
  expect(breaker.acquire()).toBe("call");
});

test("a failed probe opens it for another cool-down and counts a trip", () => {
  const clock = { now: 0 };
  const breaker = breakerAt(clock);
  for (let i = 0; i < 3; i++) breaker.failure();
  clock.now = 1_500;
  expect(breaker.acquire()).toBe("probe");
  breaker.failure();
  expect(breaker.state).toBe("open");
  clock.now = 2_400;
  expect(breaker.acquire()).toBeNull();
  clock.now = 2_500;
  expect(breaker.acquire()).toBe("probe");
  expect(breaker.stats().trips).toBe(2);
});
