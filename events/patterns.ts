/**
 * The limits of the event contract as plain values, for run-time code (the data schemas in
 * data.ts use them; importing them from here loads no TypeBox).
 */

/** App, environment and capability names become path segments: keep them tame. */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'
/** Capability types and classes (`postgres`, `secret`, `amqp`, `large`). */
export const TYPE_PATTERN = '^[a-z0-9][a-z0-9._-]{0,62}$'
/** Parameter names as they appear in `{params.<key>}` templates. */
export const PARAM_KEY_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$'
/** The most capabilities one request may ask for (a larger request is refused whole). */
export const MAX_CAPABILITIES = 100
