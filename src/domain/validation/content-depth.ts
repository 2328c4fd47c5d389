/**
 * The depth check content.ts runs before anything recursive: a module of its
 * own, apart from the validators (index.ts), which content.ts loads by
 * `import()` when content is validated.
 */
import { MAX_CONTENT_DEPTH } from "../limits.ts";
import type { SchemaType } from "../types.ts";
import { invalidSchema } from "./invalid-schema.ts";

/**
 * Rejects JSON content nested deeper than MAX_CONTENT_DEPTH before anything
 * recursive touches it. Iterative, so it cannot overflow the stack itself.
 */
export function checkContentDepth(schemaType: SchemaType, content: unknown): void {
  const stack: [unknown, number][] = [[content, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== "object" || value === null) continue;
    if (depth + 1 > MAX_CONTENT_DEPTH) {
      throw invalidSchema(schemaType, `content is nested more than ${MAX_CONTENT_DEPTH} levels deep`, {
        max_depth: MAX_CONTENT_DEPTH,
      });
    }
    const children = Array.isArray(value) ? value : Object.values(value);
    for (const child of children) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
}
