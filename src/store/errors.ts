/**
 * The store's one error type, re-exported for protocols (they import api.ts, errors.ts and
 * namespace.ts only). `MailError.kind` is the closed union of api.ts.
 */
export { MailError, type MailErrorKind } from './api.js';
