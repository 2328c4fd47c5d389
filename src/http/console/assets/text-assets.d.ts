/**
 * Lets TypeScript see the console's assets the way they are loaded:
 * `import text from "./assets/console.css" with { type: "text" }` (Bun and
 * Deno 2 both embed such imports in the module graph, so no file is read at
 * run time).
 */
declare module "*.css" {
  const text: string;
  export default text;
}
