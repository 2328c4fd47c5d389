/**
 * The browser script `console.js` as the server sees it: imported with
 * `{ type: "text" }`, its default export is its source text, served as is.
 */
declare const text: string;
export default text;
