/**
 * The public contract: event types, data types, builders and parsers. The data schemas
 * themselves (TypeBox) are in data.ts, exported here as types only: run-time code checks
 * data with the checks generated from them, and never loads TypeBox's type builders.
 */
export * from './cloudevent.ts'
export type * from './data.ts'
export * from './patterns.ts'
export * from './types.ts'
export * from './validate.ts'
