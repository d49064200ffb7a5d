/** The public contract: event types, data schemas, builders and parsers. */
export * from './cloudevent.ts'
export * from './data.ts'
export * from './types.ts'
export * from './validate.ts'
