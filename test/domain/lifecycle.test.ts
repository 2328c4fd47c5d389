/** The documented lifecycle: exactly the listed transitions are allowed, `archived` is final. */
import { describe, expect, test } from "bun:test";
import {
  ALLOWED_TRANSITIONS,
  canTransition,
  INITIAL_STATES,
  LATEST_ELIGIBLE_STATES,
} from "../../src/domain/lifecycle.ts";
import { SCHEMA_STATES } from "../../src/domain/types.ts";

const ALLOWED = new Set([
  "draft->active",
  "draft->archived",
  "active->deprecated",
  "deprecated->active",
  "deprecated->archived",
]);

describe("lifecycle", () => {
  for (const from of SCHEMA_STATES) {
    for (const to of SCHEMA_STATES) {
      const allowed = ALLOWED.has(`${from}->${to}`);
      test(`${from} -> ${to} is ${allowed ? "allowed" : "refused"}`, () => {
        expect(canTransition(from, to)).toBe(allowed);
      });
    }
  }

  test("the table lists every state and nothing else", () => {
    expect(Object.keys(ALLOWED_TRANSITIONS).sort()).toEqual([...SCHEMA_STATES].sort());
    const listed = Object.entries(ALLOWED_TRANSITIONS).flatMap(([from, tos]) =>
      tos.map((to) => `${from}->${to}`),
    );
    expect(new Set(listed)).toEqual(ALLOWED);
  });

  test("archived is final", () => {
    expect(ALLOWED_TRANSITIONS.archived).toEqual([]);
  });

  test("a schema is registered as draft or active; latest answers active or deprecated", () => {
    expect([...INITIAL_STATES].sort()).toEqual(["active", "draft"]);
    expect([...LATEST_ELIGIBLE_STATES].sort()).toEqual(["active", "deprecated"]);
  });
});
