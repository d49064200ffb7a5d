/** The request shapes the pipeline benchmark runs, shared with the load run. */

/** Requests in flight at once. */
export const CONCURRENCY = 8

/** One row of the pipeline table. */
export interface PipelineCase {
  readonly label: string
  readonly environment: 'warm' | 'cold'
  readonly capabilities: number
}

export const CASES: readonly PipelineCase[] = [
  { label: '1 capability, warm', environment: 'warm', capabilities: 1 },
  { label: '10 capabilities, warm', environment: 'warm', capabilities: 10 },
  { label: '1 capability, cold', environment: 'cold', capabilities: 1 },
  { label: '10 capabilities, cold', environment: 'cold', capabilities: 10 },
]
