/**
 * The catalog's patterns as plain values, for run-time code (schema.ts builds the
 * catalog's schema with them; importing them from here loads no TypeBox).
 */

/** `5m`, `30s`, `1h`, `250ms`, or a number of seconds. */
export const DURATION_PATTERN = '^[0-9]+(ms|s|m|h)$'
/** `owner/name` of a repository, as GitHub writes `repository.full_name`. */
export const REPOSITORY_PATTERN = '^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$'
/** A manifest path inside a repository: relative, plain file-name characters (`..` is refused by the loader). */
export const MANIFEST_PATH_PATTERN = '^[A-Za-z0-9_.][A-Za-z0-9_./-]{0,511}$'
