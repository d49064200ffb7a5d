/** The embedded, encrypted, writable secret store (`adapter: local`). */
export {
  KEY_FILE,
  LocalSecretStore,
  type LocalSecretStoreOptions,
  SECRETS_DB_FILE,
} from './store.ts'
