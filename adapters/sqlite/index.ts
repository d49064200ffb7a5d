/** The embedded state store on `node:sqlite`. */
export { SqliteStateStore, type SqliteStateStoreOptions, STATE_DB_FILE } from './state-store.ts'
