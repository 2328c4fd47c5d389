/**
 * Most errors reported for one document (the first ones found), by default: apart from index.ts, which
 * loads the validators (ajv, avsc, protobufjs), so the HTTP layer can name it without loading them.
 */
export const DEFAULT_MAX_ERRORS = 100;
