/** Image references are a value grammar of the pod spec too (`image = "busybox"`); the one grammar lives in podspec/. */
export { DEFAULT_DOMAIN, formatReference, normalizeReference, parseReference, type Reference } from "../podspec/reference.ts";
