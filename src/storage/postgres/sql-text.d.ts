/**
 * Lets TypeScript see `import text from "x.sql" with { type: "text" }`, the
 * way the migrations are embedded (Bun and Deno 2 both load such imports).
 */
declare module "*.sql" {
  const text: string;
  export default text;
}
