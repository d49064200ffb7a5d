/**
 * The harness itself: process lifecycle and the counting proxy, against tiny loopback
 * servers (no emulator needed), so a broken harness fails here and not as a puzzling
 * adapter failure.
 */
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCountingProxy } from './counting-proxy.ts'
import { findFreePort, startProcess, stopProcess, waitForHttp, waitForPort } from './process.ts'

describe('process helpers', () => {
  it('starts a server, waits for its port and URL, stops it with SIGTERM', async () => {
    const port = await findFreePort()
    const script = `require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`
    const proc = startProcess({ name: 'tiny', command: process.execPath, args: ['-e', script] })
    await waitForPort('127.0.0.1', port, { process: proc, timeoutMs: 10_000 })
    await waitForHttp(`http://127.0.0.1:${port}/`, { process: proc })
    await stopProcess(proc)
    expect(proc.hasExited()).toBe(true)
    expect(await proc.exited).toBe('SIGTERM')
  })

  it('kills with SIGKILL a process that ignores SIGTERM', async () => {
    const script = `process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)`
    const proc = startProcess({ name: 'stubborn', command: process.execPath, args: ['-e', script] })
    await expect.poll(() => proc.outputTail()).toContain('up')
    await stopProcess(proc, 200)
    expect(await proc.exited).toBe('SIGKILL')
  })

  it('fails fast, with the output tail, when the process exits while waited for', async () => {
    const proc = startProcess({
      name: 'crasher',
      command: process.execPath,
      args: ['-e', 'console.error("boom: no config"); process.exit(3)'],
    })
    const port = await findFreePort()
    await expect(
      waitForPort('127.0.0.1', port, { process: proc, timeoutMs: 10_000 }),
    ).rejects.toThrow(/crasher exited \(3\)[\s\S]*boom: no config/)
  })

  it('times out naming what it waited for', async () => {
    const port = await findFreePort()
    await expect(waitForPort('127.0.0.1', port, { timeoutMs: 300 })).rejects.toThrow(
      `timed out after 300 ms waiting for 127.0.0.1:${port}`,
    )
  })
})

describe('counting proxy', () => {
  let upstream: Server
  let upstreamUrl: string
  const received: string[] = []

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        received.push(body)
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({ echo: body }))
      })
    })
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    const address = upstream.address()
    upstreamUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  })
  afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())))

  const call = (url: string, target: string, body = '{}', timeoutMs = 2000) =>
    fetch(url, {
      method: 'POST',
      headers: { 'x-amz-target': target },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    })

  it('forwards and counts per X-Amz-Target operation', async () => {
    const proxy = await startCountingProxy(upstreamUrl)
    await call(proxy.url, 'svc.A')
    await call(proxy.url, 'svc.A')
    const res = await call(proxy.url, 'svc.B', '{"x":1}')
    expect(await res.json()).toEqual({ echo: '{"x":1}' })
    expect([proxy.count('A'), proxy.count('svc.B'), proxy.count()]).toEqual([2, 1, 3])
    await proxy.close()
  })

  it('injects faults for the next N matching requests only', async () => {
    const proxy = await startCountingProxy(upstreamUrl)
    proxy.inject({ kind: 'throttle', retryAfterSeconds: 1 }, { times: 2, operation: 'A' })
    proxy.inject({ kind: 'status', status: 503 })
    const throttled = await call(proxy.url, 'svc.A')
    expect(throttled.status).toBe(400)
    expect(throttled.headers.get('retry-after')).toBe('1')
    expect(await throttled.json()).toMatchObject({ __type: 'ThrottlingException' })
    expect((await call(proxy.url, 'svc.B')).status).toBe(503)
    expect((await call(proxy.url, 'svc.A')).status).toBe(400)
    expect((await call(proxy.url, 'svc.A')).status).toBe(200)
    expect(proxy.seen.map((s) => s.faulted)).toEqual(['throttle', 'status', 'throttle', undefined])
    await proxy.close()
  })

  it('resets, hangs, and rewrites at the wire', async () => {
    const proxy = await startCountingProxy(upstreamUrl)
    proxy.inject({ kind: 'reset' })
    await expect(call(proxy.url, 'svc.A')).rejects.toThrow()
    proxy.inject({ kind: 'hang' })
    await expect(call(proxy.url, 'svc.A', '{}', 300)).rejects.toThrow(/timeout|aborted/i)
    proxy.inject({
      kind: 'rewrite',
      request: () => Buffer.from('changed'),
      response: (b) => Buffer.from(b.toString().toUpperCase()),
    })
    const res = await call(proxy.url, 'svc.A', 'original')
    expect(await res.text()).toBe('{"ECHO":"CHANGED"}')
    expect(received.at(-1)).toBe('changed')
    await proxy.close()
  })
})
