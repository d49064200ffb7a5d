/** Slack: answers to slash commands through their response_url. */
export * from './responder.ts'
