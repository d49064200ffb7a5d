/**
 * Optional vitest globalSetup for the emulators project: starts one moto for the whole
 * run and provides its endpoint to every file (see use-moto.ts).
 */
import type { TestProject } from 'vitest/node'
import { startMoto } from './moto.ts'

/** Starts moto once; the returned teardown stops it. */
export default async function setupMoto(project: TestProject): Promise<() => Promise<void>> {
  const moto = await startMoto()
  project.provide('motoEndpoint', moto.endpoint)
  return () => moto.stop()
}
